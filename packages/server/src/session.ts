import type { IncomingMessage } from 'node:http';
import { nanoid } from 'nanoid';
import { PRESENCE_END_FEATURE, PROTOCOL_VERSION, fitsByteLimit, type ClientFrame, type CloseCode, type ErrorCode, type RefreshFrame } from '@tidewire/core/protocol';
import type { Broker } from './broker/broker';
import type { Clock, Timer } from './clock';
import { elapsed } from './clock';
import { peekId } from './encode';
import { PublishHold } from './publishHold';
import { serverFeatures } from './features';
import { handlePresenceOrHistory } from './presenceHistoryFrames';
import { SessionPresence } from './sessionPresence';
import { startHeartbeat } from './heartbeat';
import type { Logger, SessionInfo } from './hooks';
import { decodeInbound } from './inboundFrame';
import { AccessRecheck, heldAccess } from './accessRecheck';
import type { Link } from './link';
import type { ResolvedOptions } from './options';
import type { ServerCounters } from './metrics';
import { FrameRateLimiter } from './rateLimit';
import { PublishPipeline } from './publishPipeline';
import { RequestQueue } from './requestQueue';
import { SessionRpc } from './rpc';
import { ExpiryTimer, connectedFrame, runAuthenticate } from './sessionAuth';
import { SessionOutput } from './sessionOutput';
import { permitChannel, permitReplacing, publishFromClient, retryAfterOf, subscribeFromClient, type ChannelRequestContext } from './sessionRequests';
import { SessionSubscriptions } from './subscriptions';

/** What a session needs from the server that owns it. */
export interface SessionHost {
  readonly options: ResolvedOptions;
  readonly broker: Broker;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where traffic is counted for `server.metrics()`; absent: nothing is counted. */
  readonly metrics?: ServerCounters;
  onSessionClosed(session: Session): void;
  /** The session's handshake is over (it is open, or closed before it opened): it no longer counts as pending. Called once. */
  onHandshakeEnded?(session: Session): void;
}

/** Frames past the hard cap are not even parsed: the connection closes. */
export const HARD_CAP_FACTOR = 4;
const MAX_MALFORMED = 10;
const MAX_QUEUED = 1000;
/** The `retryAfter` of a request refused because MAX_QUEUED wait already: the queue drains at the broker's pace. */
const QUEUE_FULL_RETRY_MS = 250;

type Phase = 'awaiting_connect' | 'authenticating' | 'open' | 'closed';

/**
 * One client connection, whatever the transport. Frames from the client are
 * handled one at a time, in arrival order (pings excepted), so a client's
 * publishes are stored in the order it sent them (with a broker that stores in call order, a
 * publish is handed over without waiting for the one before it to be stored: publishPipeline.ts). Channel subscriptions live in
 * subscriptions.ts, the heartbeat in heartbeat.ts, the request queue in requestQueue.ts,
 * authentication and expiry in sessionAuth.ts, the channel requests in sessionRequests.ts,
 * everything sent in sessionOutput.ts.
 */
export class Session {
  readonly id = nanoid();
  #phase: Phase = 'awaiting_connect';
  #user: unknown = null;
  readonly #subs: SessionSubscriptions;
  readonly #presence: SessionPresence;
  readonly #queue: RequestQueue;
  /** Whether the client offered `presence_end` (protocol §14): it reads `presence_unsubscribed` and `left`. */
  #presenceEnd = false;
  /** Publishes handed to a broker that stores in call order, not yet answered (undefined: each is awaited). */
  readonly #publishes: PublishPipeline | undefined;
  readonly #rpc: SessionRpc;
  readonly #out: SessionOutput;
  /** The session as the channel gate and client publishes see it (sessionRequests.ts). */
  readonly #requests: ChannelRequestContext;
  #malformed = 0;
  /** Text of the requests waiting in #queue: bounded by `limits.maxBufferedBytes`, as what waits towards the client is. */
  #queuedBytes = 0;
  #recheck: AccessRecheck | undefined;
  #lastSeen: number;
  readonly #limiter: FrameRateLimiter;
  /** Keeps publishes in order across a `rate_limited` refusal (publishHold.ts). */
  readonly #hold: PublishHold;
  readonly #connectTimer: Timer;
  readonly #expiry: ExpiryTimer;
  #stopHeartbeat: (() => void) | undefined;

  constructor(
    readonly link: Link,
    readonly request: IncomingMessage,
    private readonly host: SessionHost,
  ) {
    const { clock, options, logger, broker } = host;
    this.#lastSeen = elapsed(clock);
    this.#hold = new PublishHold(Boolean(options.authorize || options.onPublish));
    this.#out = new SessionOutput({
      link,
      maxBufferedBytes: options.limits.maxBufferedBytes,
      ...(host.metrics && { metrics: host.metrics }),
      closed: () => this.#phase === 'closed',
      slowConsumer: (message) => this.close('slow_consumer', message),
    });
    this.#limiter = new FrameRateLimiter(options.limits.rate.perSecond, options.limits.rate.burst, elapsed(clock));
    this.#publishes = broker.publishesInCallOrder ? new PublishPipeline() : undefined;
    this.#queue = new RequestQueue(MAX_QUEUED, (e) => logger.error('tidewire: a request handler failed', e));
    this.#presence = new SessionPresence({
      broker,
      logger,
      clientId: this.id,
      user: () => this.#user,
      send: (frame) => this.#out.send(frame),
      closed: () => this.#phase === 'closed',
      max: options.limits.maxSubscriptions,
      maxDepth: options.limits.maxDepth,
      refuse: (id, message) => this.#out.error(id, 'forbidden', message),
    });
    this.#requests = {
      options,
      broker,
      clock,
      logger,
      ...(host.metrics && { metrics: host.metrics }),
      user: () => this.#user,
      info: () => this.info,
      closed: () => this.#phase === 'closed',
      error: (id, code, message, retryAfter) => this.#out.error(id, code, message, retryAfter),
      send: (frame) => this.#out.send(frame),
      hold: this.#hold,
    };
    this.#subs = new SessionSubscriptions({
      broker,
      clock,
      logger,
      maxBufferedBytes: options.limits.maxBufferedBytes,
      // As long as the heartbeat lets a silent client live: a client reading nothing for longer is gone anyway.
      replayStallMs: 2 * options.heartbeat + 1000,
      sendText: (text) => this.#out.sendText(text),
      send: (frame) => this.#out.send(frame),
      bufferedBytes: () => this.link.bufferedBytes(),
      closed: () => this.#phase === 'closed',
      slowConsumer: (message) => this.close('slow_consumer', message),
      recovery: (recovered) => {
        if (host.metrics) host.metrics[recovered ? 'recovered' : 'gaps']++;
      },
    });
    this.#rpc = new SessionRpc({ methods: options.rpc, clock, logger, timeout: options.hookTimeout, maxDepth: options.limits.maxDepth, session: () => this.info, send: (f) => this.#out.send(f) });
    this.#expiry = new ExpiryTimer(clock, () => this.close('token_expired', 'token expired'));
    this.#connectTimer = clock.setTimeout(
      () => this.close('protocol_error', `no connect frame within ${options.connectTimeout} ms`),
      options.connectTimeout,
    );
  }

  get closed(): boolean {
    return this.#phase === 'closed';
  }

  get info(): SessionInfo {
    return { id: this.id, user: this.#user, request: this.request };
  }

  /** Send the message of `channel` with this id to this session as a skip, not its data (server.publish's `except`). */
  skipOnce(channel: string, messageId: string): void {
    this.#subs.skipOnce(channel, messageId);
  }

  /**
   * A text frame from the client. Never throws.
   * @param wireBytes the size it crossed the wire at, when that was not `text` (a binary WebSocket
   *   frame, §17.1): the hard cap applies to it, `maxPayload` to the text form
   */
  receive(text: string, wireBytes?: number): void {
    if (this.#phase === 'closed') return;
    const metrics = this.host.metrics;
    if (metrics) {
      metrics.framesIn++;
      metrics.bytesIn += text.length;
    }
    const { clock, options } = this.host;
    const now = elapsed(clock); // durations only: heartbeat, rate, hold
    this.#lastSeen = now; // any frame proves the client is alive
    const { maxPayload } = options.limits;
    if (wireBytes === undefined ? !fitsByteLimit(text, maxPayload * HARD_CAP_FACTOR) : wireBytes > maxPayload * HARD_CAP_FACTOR) {
      this.close('too_large', `frame exceeds ${maxPayload * HARD_CAP_FACTOR} bytes`);
      return;
    }
    if (this.#phase === 'awaiting_connect') return this.#receiveFirst(text);

    const rate = this.#limiter.check(now);
    if (rate === 'abusive') {
      this.close('rate_limited', 'too many frames', this.#limiter.reconnectAfter(now));
      return;
    }
    if (!fitsByteLimit(text, maxPayload)) {
      return this.#refuse(peekId(text), 'too_large', `frame exceeds maxPayload (${maxPayload} bytes)`);
    }
    const decoded = decodeInbound(text, options.limits);
    if (!decoded.ok) return this.receiveInvalid(decoded.reason, peekId(text));
    const frame = decoded.frame;
    if (frame.type === 'pong') return;
    // Answered at once, not behind slow requests; but never before `connected`, which must come first.
    if (frame.type === 'ping' && this.#phase === 'open') return this.#out.send({ type: 'pong' });
    // Over the rate, requests are refused; unsubscribe still goes through (it sheds load).
    // A resubscribe (`since`) is charged like any request: `connected.limits` lets clients pace it.
    this.#hold.arrive(frame);
    if (rate === 'limited' && 'id' in frame) {
      const retryAfter = this.#limiter.retryAfter(now);
      this.#hold.refused(frame, retryAfter, now);
      return this.#refuse(frame.id, 'rate_limited', 'too many frames', retryAfter);
    }
    this.#enqueue(frame, text.length);
  }

  /** A frame the transport already knows is invalid (binary, not UTF-8), or one that failed validation. */
  receiveInvalid(reason: string, id?: string): void {
    if (this.#phase === 'closed') return;
    if (this.#phase === 'awaiting_connect') return this.close('protocol_error', reason);
    if (++this.#malformed >= MAX_MALFORMED) return this.close('protocol_error', `too many malformed frames (${reason})`);
    this.#refuse(id, 'bad_request', reason);
  }

  /**
   * Refuse a frame at arrival. While the connect is being authenticated the answer waits in the
   * request queue behind it: `connected` is the first frame a client reads (protocol §3.4, frames
   * may follow `connect` at once), and a client drops anything before it; its `retryAfter` then
   * names the wait left when it is sent, not the one at arrival.
   */
  #refuse(id: string | undefined, code: ErrorCode, message: string, retryAfter?: number): void {
    if (this.#phase !== 'authenticating') return this.#out.error(id, code, message, retryAfter);
    const clock = this.host.clock;
    const until = retryAfter === undefined ? undefined : elapsed(clock) + retryAfter;
    const refuse = (): void => this.#out.error(id, code, message, until === undefined ? undefined : Math.max(0, until - elapsed(clock)));
    if (!this.#queue.push(() => void (this.#phase === 'open' && refuse()))) this.close('rate_limited', 'too many frames before connected');
  }

  /** The transport is gone (client left, network died). Clean up without sending. */
  onLinkClosed(): void {
    this.#end();
  }

  /** End the session for a reason the client is told about. Idempotent. */
  close(code: CloseCode, message: string, retryAfter?: number): void {
    if (this.#phase === 'closed') return;
    this.host.metrics?.close(code);
    this.#end();
    this.link.close(code, message, retryAfter);
  }

  #end(): void {
    if (this.#phase === 'closed') return;
    if (this.#phase !== 'open') this.host.onHandshakeEnded?.(this);
    this.#phase = 'closed';
    this.host.clock.clearTimeout(this.#connectTimer);
    this.#expiry.clear();
    this.#stopHeartbeat?.();
    this.#subs.clear();
    this.#presence.clear(); // however the session ended, its memberships end with it
    this.host.onSessionClosed(this);
  }

  // ── connect & auth ───────────────────────────────────────────────────────

  #receiveFirst(text: string): void {
    const decoded = decodeInbound(text, this.host.options.limits);
    if (!decoded.ok) return this.close('protocol_error', decoded.reason);
    const frame = decoded.frame;
    if (frame.type !== 'connect') return this.close('protocol_error', 'the first frame must be "connect"');
    if (frame.v !== PROTOCOL_VERSION) {
      return this.close('unsupported_version', `protocol version ${frame.v} is not supported (server speaks ${PROTOCOL_VERSION})`);
    }
    this.host.clock.clearTimeout(this.#connectTimer);
    this.#presenceEnd = frame.features?.includes(PRESENCE_END_FEATURE) === true;
    this.#phase = 'authenticating';
    this.#enqueue(frame, text.length);
  }

  async #connect(token: string | undefined): Promise<void> {
    const auth = await runAuthenticate(this.host, this.request, token, 'connect', this.#user);
    if (this.#phase === 'closed') return;
    if (auth === 'timed_out') return this.close('server_error', `authenticate() did not answer within ${this.host.options.hookTimeout} ms`);
    if (!auth) return this.close('unauthorized', 'authentication failed');
    const { clock, options } = this.host;
    if (auth.expiresAt !== undefined && auth.expiresAt <= clock.now()) return this.close('token_expired', 'token already expired');
    this.#user = auth.user;
    this.#phase = 'open';
    this.host.onHandshakeEnded?.(this);
    const { heartbeat } = options;
    const expiresIn = this.#expiry.arm(auth.expiresAt);
    this.#out.send(connectedFrame(this.id, options, expiresIn, serverFeatures(this.host)));
    this.#stopHeartbeat = startHeartbeat(
      {
        clock,
        lastSeen: () => this.#lastSeen,
        ping: () => this.#out.send({ type: 'ping' }),
        // Buffers count bytes, at least one per character: sending never looks like draining.
        outflow: () => ({ sent: this.#out.charsSent, drained: this.#out.charsSent - this.link.bufferedBytes() }),
        dead: (silent) => this.close('heartbeat_timeout', `no frame from the client for ${silent} ms`),
      },
      heartbeat,
    );
  }

  async #refresh(frame: RefreshFrame): Promise<void> {
    const auth = await runAuthenticate(this.host, this.request, frame.token, 'refresh', this.#user);
    if (this.#phase === 'closed') return;
    // A failed refresh leaves the session as it was: it still ends at the old expiry.
    if (auth === 'timed_out') return this.#out.error(frame.id, 'server_error', `authenticate() did not answer within ${this.host.options.hookTimeout} ms`);
    if (!auth) return this.#out.error(frame.id, 'unauthorized', 'token refresh failed');
    if (auth.expiresAt !== undefined && auth.expiresAt <= this.host.clock.now()) {
      return this.#out.error(frame.id, 'unauthorized', 'token already expired');
    }
    this.#user = auth.user;
    const expiresIn = this.#expiry.arm(auth.expiresAt);
    this.#out.send({ type: 'refreshed', id: frame.id, ...(expiresIn !== undefined && { expiresIn }) });
    // Answered first (a slow hook must not outlast the client's wait for `refreshed`), and not awaited:
    // 1,000 held channels checked 16 at a time must not hold the session's later requests back.
    (this.#recheck ??= new AccessRecheck(this.#requests)).run(heldAccess(this.#subs, this.#presence, this.#out, this.#presenceEnd));
  }

  // ── requests ─────────────────────────────────────────────────────────────

  /** `bytes`: the frame's text length, kept with a publish so history can be bounded by bytes. */
  #enqueue(frame: ClientFrame, bytes: number): void {
    // A count alone let 1,000 requests of maxPayload each wait (64 MiB a session) behind a slow hook.
    const fits = this.#queuedBytes === 0 || this.#queuedBytes + bytes <= this.host.options.limits.maxBufferedBytes;
    this.#queuedBytes += bytes; // before the push: a task may start (and count itself out) inside it
    // Not an async task: a request that completes synchronously (a publish without hooks) costs no promise.
    const accepted = fits && this.#queue.push(() => {
      this.#queuedBytes -= bytes;
      if (this.#phase === 'closed') return;
      // Only publishes overlap (publishPipeline.ts); anything else starts once those before it are answered.
      const settled = frame.type === 'publish' ? undefined : this.#publishes?.settled();
      return settled ? settled.then(() => this.#run(frame, bytes)) : this.#run(frame, bytes);
    });
    if (accepted) return;
    this.#queuedBytes -= bytes;
    // The broker or the hooks are slower than the client sends: accept no more work rather than grow
    // without bound — refusing this request `rate_limited` (a publish holds the later ones back, so
    // none overtakes it when the client sends it again), not the connection: closing it dropped the
    // answers of everything accepted, and a client re-sending its whole outbox met the same wall again.
    if (!('id' in frame) || this.#phase === 'authenticating') return this.close('rate_limited', 'too many requests in flight', this.#limiter.reconnectAfter(elapsed(this.host.clock)));
    this.#hold.refused(frame, QUEUE_FULL_RETRY_MS, elapsed(this.host.clock));
    this.#out.error(frame.id, 'rate_limited', `too many requests in flight (${fits ? `${MAX_QUEUED} waiting` : 'maxBufferedBytes of them waiting'})`, QUEUE_FULL_RETRY_MS);
  }

  /** Handle one request; a throw or a rejection is answered by #failed. */
  #run(frame: ClientFrame, bytes: number): Promise<void> | undefined {
    let handled: Promise<void> | void;
    try {
      handled = this.#handle(frame, bytes);
    } catch (e) {
      this.#failed(frame, e);
      return undefined;
    }
    return handled ? handled.then(undefined, (e: unknown) => this.#failed(frame, e)) : undefined;
  }

  /** Answer a request whose handling threw (or whose publish the broker refused). */
  #failed(frame: ClientFrame, e: unknown): void {
    // A broker that says when to come back (Redis down) is an outage, not a bug: the client gets the hint.
    const retryAfter = retryAfterOf(e);
    if (retryAfter === undefined) this.host.logger.error(`tidewire: handling a "${frame.type}" frame failed`, e);
    else this.host.logger.warn(`tidewire: the broker is unavailable; a "${frame.type}" was refused`, e);
    if ('id' in frame) this.#out.error(frame.id, 'server_error', retryAfter === undefined ? 'internal error' : 'temporarily unavailable', retryAfter);
  }

  #handle(frame: ClientFrame, bytes: number): Promise<void> | void {
    switch (frame.type) {
      case 'connect':
        if (this.#phase === 'authenticating') return this.#connect(frame.token);
        return this.receiveInvalid('already connected');
      case 'subscribe':
        return subscribeFromClient(this.#requests, this.#subs, frame);
      case 'unsubscribe':
        return this.#subs.unsubscribe(frame.channel);
      case 'publish':
        return publishFromClient(this.#requests, frame, bytes, this.#publishes && { queue: this.#publishes, fail: (e) => this.#failed(frame, e) });
      case 'refresh':
        return this.#refresh(frame);
      case 'rpc':
        // Not queued behind other requests (rpc.ts): runs alongside them, answered by id.
        return void this.#rpc.run(frame);
      case 'ping':
        return this.#out.send({ type: 'pong' }); // a ping that arrived while authenticating
      case 'pong':
        return;
      case 'presence_subscribe':
      case 'presence_unsubscribe':
      case 'enter':
      case 'leave':
      case 'history':
        return handlePresenceOrHistory(frame, {
          broker: this.host.broker,
          presence: this.#presence,
          permit: (id, channel, action, drop) => (drop ? permitReplacing(this.#requests, id, channel, action, drop) : permitChannel(this.#requests, id, channel, action)),
          error: (id, code, message) => this.#out.error(id, code, message),
          send: (f) => this.#out.send(f),
        });
    }
  }
}


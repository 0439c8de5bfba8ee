import type { IncomingMessage } from 'node:http';
import { nanoid } from 'nanoid';
import {
  PROTOCOL_VERSION,
  decodeClientFrame,
  encodeFrame,
  fitsByteLimit,
  type ClientFrame,
  type CloseCode,
  type ErrorCode,
  type PublishFrame,
  type RefreshFrame,
  type ServerFrame,
  type SubscribeFrame,
} from '@tidewire/core/protocol';
import { afterBurst } from './afterBurst';
import type { Broker, BrokerMessage, BrokerSubscription } from './broker/broker';
import type { Clock, Timer } from './clock';
import { encodeMessage, encodeReplayed, peekId } from './encode';
import type { AuthResult, Logger, SessionInfo } from './hooks';
import type { Link } from './link';
import type { ResolvedOptions } from './options';
import { FrameRateLimiter } from './rateLimit';

/** What a session needs from the server that owns it. */
export interface SessionHost {
  readonly options: ResolvedOptions;
  readonly broker: Broker;
  readonly clock: Clock;
  readonly logger: Logger;
  onSessionClosed(session: Session): void;
}

/** Frames past the hard cap are not even parsed: the connection closes. */
export const HARD_CAP_FACTOR = 4;
const MAX_MALFORMED = 10;
const MAX_QUEUED = 1000;
const MAX_TIMER = 2 ** 31 - 1;

type Phase = 'awaiting_connect' | 'authenticating' | 'open' | 'closed';

/** One channel subscription; `pending` holds live messages until the replay has been sent. */
interface Subscription {
  handle: BrokerSubscription | undefined;
  pending: BrokerMessage[] | undefined;
  epoch: string;
  offset: number; // last offset sent to the client
}

/**
 * One client connection, whatever the transport. Frames from the client are
 * handled one at a time, in arrival order (pings excepted), so a client's
 * publishes are stored in the order it sent them.
 */
export class Session {
  readonly id = nanoid();
  #phase: Phase = 'awaiting_connect';
  #user: unknown = null;
  readonly #subs = new Map<string, Subscription>();
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #malformed = 0;
  #bufferCheckQueued = false;
  #lastSeen: number;
  readonly #limiter: FrameRateLimiter;
  readonly #timers: { connect?: Timer; ping?: Timer; deadline?: Timer; expiry?: Timer } = {};

  constructor(
    readonly link: Link,
    readonly request: IncomingMessage,
    private readonly host: SessionHost,
  ) {
    const { clock, options } = host;
    this.#lastSeen = clock.now();
    this.#limiter = new FrameRateLimiter(options.limits.rate.perSecond, options.limits.rate.burst, clock.now());
    this.#timers.connect = clock.setTimeout(
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

  /** A text frame from the client. Never throws. */
  receive(text: string): void {
    if (this.#phase === 'closed') return;
    const { clock, options } = this.host;
    const now = clock.now();
    this.#lastSeen = now; // any frame proves the client is alive
    const { maxPayload } = options.limits;
    if (!fitsByteLimit(text, maxPayload * HARD_CAP_FACTOR)) {
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
      return this.#error(peekId(text), 'too_large', `frame exceeds maxPayload (${maxPayload} bytes)`);
    }
    const decoded = decodeClientFrame(text);
    if (!decoded.ok) return this.receiveInvalid(decoded.reason, peekId(text));
    const frame = decoded.frame;
    if (frame.type === 'pong') return;
    // Answered at once, not behind slow requests; but never before `connected`, which must come first.
    if (frame.type === 'ping' && this.#phase === 'open') return this.#send({ type: 'pong' });
    // Over the rate, requests are refused; unsubscribe still goes through (it sheds load).
    if (rate === 'limited' && 'id' in frame) {
      return this.#error(frame.id, 'rate_limited', 'too many frames', this.#limiter.retryAfter(now));
    }
    this.#enqueue(frame);
  }

  /** A frame the transport already knows is invalid (e.g. binary), or one that failed validation. */
  receiveInvalid(reason: string, id?: string): void {
    if (this.#phase === 'closed') return;
    if (this.#phase === 'awaiting_connect') return this.close('protocol_error', reason);
    if (++this.#malformed >= MAX_MALFORMED) return this.close('protocol_error', `too many malformed frames (${reason})`);
    this.#error(id, 'bad_request', reason);
  }

  /** The transport is gone (client left, network died). Clean up without sending. */
  onLinkClosed(): void {
    this.#end();
  }

  /** End the session for a reason the client is told about. Idempotent. */
  close(code: CloseCode, message: string, retryAfter?: number): void {
    if (this.#phase === 'closed') return;
    this.#end();
    this.link.close(code, message, retryAfter);
  }

  #end(): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    for (const timer of Object.values(this.#timers)) this.host.clock.clearTimeout(timer);
    for (const sub of this.#subs.values()) sub.handle?.unsubscribe();
    this.#subs.clear();
    this.host.onSessionClosed(this);
  }

  // ── connect & auth ───────────────────────────────────────────────────────

  #receiveFirst(text: string): void {
    const decoded = decodeClientFrame(text);
    if (!decoded.ok) return this.close('protocol_error', decoded.reason);
    const frame = decoded.frame;
    if (frame.type !== 'connect') return this.close('protocol_error', 'the first frame must be "connect"');
    if (frame.v !== PROTOCOL_VERSION) {
      return this.close('unsupported_version', `protocol version ${frame.v} is not supported (server speaks ${PROTOCOL_VERSION})`);
    }
    this.host.clock.clearTimeout(this.#timers.connect);
    this.#phase = 'authenticating';
    this.#enqueue(frame);
  }

  async #connect(token: string | undefined): Promise<void> {
    const auth = await this.#authenticate(token, 'connect');
    if (this.#phase === 'closed') return;
    if (!auth) return this.close('unauthorized', 'authentication failed');
    const now = this.host.clock.now();
    if (auth.expiresAt !== undefined && auth.expiresAt <= now) return this.close('token_expired', 'token already expired');
    this.#user = auth.user;
    this.#phase = 'open';
    const { heartbeat, limits } = this.host.options;
    const expiresIn = this.#armExpiry(auth.expiresAt);
    this.#send({
      type: 'connected',
      v: PROTOCOL_VERSION,
      session: this.id,
      heartbeat,
      maxPayload: limits.maxPayload,
      ...(expiresIn !== undefined && { expiresIn }),
    });
    this.#startHeartbeat();
  }

  async #refresh(frame: RefreshFrame): Promise<void> {
    const auth = await this.#authenticate(frame.token, 'refresh');
    if (this.#phase === 'closed') return;
    // A failed refresh leaves the session as it was: it still ends at the old expiry.
    if (!auth) return this.#error(frame.id, 'unauthorized', 'token refresh failed');
    if (auth.expiresAt !== undefined && auth.expiresAt <= this.host.clock.now()) {
      return this.#error(frame.id, 'unauthorized', 'token already expired');
    }
    this.#user = auth.user;
    const expiresIn = this.#armExpiry(auth.expiresAt);
    this.#send({ type: 'refreshed', id: frame.id, ...(expiresIn !== undefined && { expiresIn }) });
  }

  /** Null on refusal, including a throwing hook (logged): a broken auth hook must fail closed. */
  async #authenticate(token: string | undefined, reason: 'connect' | 'refresh'): Promise<AuthResult | null> {
    const { authenticate } = this.host.options;
    if (!authenticate) return { user: null };
    try {
      const ctx = { token, request: this.request, reason, ...(reason === 'refresh' && { user: this.#user }) };
      return (await authenticate(ctx)) ?? null;
    } catch (e) {
      this.host.logger.error(`tidewire: authenticate() threw during ${reason}`, e);
      return null;
    }
  }

  /** Close at `expiresAt`; returns ms until then (undefined: no expiry). */
  #armExpiry(expiresAt: number | undefined): number | undefined {
    const { clock } = this.host;
    clock.clearTimeout(this.#timers.expiry);
    this.#timers.expiry = undefined;
    if (expiresAt === undefined) return undefined;
    const check = (): void => {
      const left = expiresAt - clock.now();
      if (left <= 0) return this.close('token_expired', 'token expired');
      // setTimeout cannot wait longer than ~24.8 days; wait in steps.
      this.#timers.expiry = clock.setTimeout(check, Math.min(left, MAX_TIMER));
    };
    check();
    return Math.max(0, Math.round(expiresAt - clock.now()));
  }

  // ── heartbeat ────────────────────────────────────────────────────────────

  #startHeartbeat(): void {
    const { clock, options } = this.host;
    const interval = options.heartbeat;
    const ping = (): void => {
      this.#send({ type: 'ping' });
      if (this.#phase !== 'closed') this.#timers.ping = clock.setTimeout(ping, interval);
    };
    this.#timers.ping = clock.setTimeout(ping, interval);
    // One deadline timer, re-armed lazily for the remaining silence: no timer churn per frame.
    const limit = 2 * interval + 1000;
    const check = (): void => {
      const silent = clock.now() - this.#lastSeen;
      if (silent >= limit) return this.close('heartbeat_timeout', `no frame from the client for ${silent} ms`);
      this.#timers.deadline = clock.setTimeout(check, limit - silent);
    };
    this.#timers.deadline = clock.setTimeout(check, limit);
  }

  // ── requests ─────────────────────────────────────────────────────────────

  #enqueue(frame: ClientFrame): void {
    if (++this.#queued > MAX_QUEUED) {
      // Hooks are slower than the client sends: stop accepting work rather than grow without bound.
      this.close('rate_limited', 'too many requests in flight', this.#limiter.reconnectAfter(this.host.clock.now()));
      return;
    }
    this.#queue = this.#queue.then(async () => {
      this.#queued--;
      if (this.#phase === 'closed') return;
      try {
        await this.#handle(frame);
      } catch (e) {
        this.host.logger.error(`tidewire: handling a "${frame.type}" frame failed`, e);
        if ('id' in frame) this.#error(frame.id, 'server_error', 'internal error');
      }
    });
  }

  async #handle(frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'connect':
        if (this.#phase === 'authenticating') return this.#connect(frame.token);
        return this.receiveInvalid('already connected');
      case 'subscribe':
        return this.#subscribe(frame);
      case 'unsubscribe': {
        this.#subs.get(frame.channel)?.handle?.unsubscribe();
        this.#subs.delete(frame.channel);
        return;
      }
      case 'publish':
        return this.#publish(frame);
      case 'refresh':
        return this.#refresh(frame);
      case 'ping':
        return this.#send({ type: 'pong' }); // a ping that arrived while authenticating
      case 'pong':
        return;
    }
  }

  /** Common gate for subscribe and publish: channel name, then the authorize hook. */
  async #permit(id: string, channel: string, action: 'subscribe' | 'publish'): Promise<boolean> {
    const { isChannel, authorize } = this.host.options;
    if (!isChannel(channel)) {
      this.#error(id, 'unknown_channel', `invalid channel name`);
      return false;
    }
    if (!authorize) return true;
    const allowed = await authorize({ user: this.#user, channel, action, session: this.info });
    if (this.#phase === 'closed') return false;
    if (allowed !== true) this.#error(id, 'forbidden', `${action} to "${channel}" is not allowed`);
    return allowed === true;
  }

  async #subscribe(frame: SubscribeFrame): Promise<void> {
    const { id, channel, since } = frame;
    if (!(await this.#permit(id, channel, 'subscribe'))) return;
    // Re-subscribing replaces the old subscription: the client gets one stream, never two.
    this.#subs.get(channel)?.handle?.unsubscribe();
    const sub: Subscription = { handle: undefined, pending: [], epoch: '', offset: 0 };
    this.#subs.set(channel, sub);
    const handle = await this.host.broker.subscribe(channel, since, (m) => this.#onMessage(channel, sub, m));
    if (this.#subs.get(channel) !== sub) {
      handle.unsubscribe(); // closed or superseded while the broker was busy
      return;
    }
    sub.handle = handle;
    sub.epoch = handle.epoch;
    sub.offset = handle.offset;
    this.#send({ type: 'subscribed', id, channel, epoch: handle.epoch, offset: handle.offset, recovered: handle.recovered });
    // Replay, then whatever arrived live meanwhile: in order, once (see #deliver).
    for (const m of handle.replay) this.#deliver(channel, sub, m, encodeReplayed(channel, m));
    const pending = sub.pending ?? [];
    sub.pending = undefined;
    for (const m of pending) this.#deliver(channel, sub, m, encodeMessage(channel, m));
  }

  #onMessage(channel: string, sub: Subscription, m: BrokerMessage): void {
    if (this.#subs.get(channel) !== sub) return;
    if (sub.pending) sub.pending.push(m);
    else this.#deliver(channel, sub, m, encodeMessage(channel, m));
  }

  /** `text` is m's `message` frame, encoded by the caller through the cache that suits it (see encode.ts). */
  #deliver(channel: string, sub: Subscription, m: BrokerMessage, text: string): void {
    // Belt and braces over the broker contract: never send an offset twice.
    if (m.epoch === sub.epoch && m.offset <= sub.offset) return;
    sub.epoch = m.epoch;
    sub.offset = m.offset;
    this.#sendText(text);
  }

  async #publish(frame: PublishFrame): Promise<void> {
    const { id, channel, data } = frame;
    if (!(await this.#permit(id, channel, 'publish'))) return;
    const result = await this.host.broker.publish(channel, { id, data });
    this.#send({ type: 'ack', id, epoch: result.epoch, offset: result.offset });
  }

  // ── output ───────────────────────────────────────────────────────────────

  #error(id: string | undefined, code: ErrorCode, message: string, retryAfter?: number): void {
    this.#send({
      type: 'error',
      ...(id !== undefined && { id }),
      code,
      message,
      ...(retryAfter !== undefined && { retryAfter }),
    });
  }

  #send(frame: ServerFrame): void {
    this.#sendText(encodeFrame(frame));
  }

  #sendText(text: string): void {
    if (this.#phase === 'closed') return;
    this.link.send(text);
    // Once per burst, not per frame: queued after the link's own flush (see afterBurst), so it sees what is still buffered.
    if (!this.#bufferCheckQueued) {
      this.#bufferCheckQueued = true;
      afterBurst(this.#checkBuffered);
    }
  }

  /** Bound once: queued for every burst this session sends in. */
  readonly #checkBuffered = (): void => {
    this.#bufferCheckQueued = false;
    if (this.#phase === 'closed') return;
    const max = this.host.options.limits.maxBufferedBytes;
    // It cannot keep up; it will reconnect and recover from its last offset.
    if (this.link.bufferedBytes() > max) this.close('slow_consumer', `more than ${max} bytes queued for this client`);
  };
}

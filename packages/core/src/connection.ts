import type { Backoff } from './backoff';
import type { Clock } from './clock';
import { Timer } from './clock';
import type { ConnectionSnapshot, TransportReason } from './connection-state';
import { ConnectionError, ProtocolError, TidewireError } from './errors';
import { MetricsStore, countReconnect, newCounters } from './metrics';
import { watchNetwork } from './network-watch';
import type { ConnectedFrame } from './protocol/frames';
import { connectFrame, decodeServerFrame, encodeFrame } from './protocol/codec';
import { HintedBackoff, isFatalClose, needsNewToken } from './retry-policy';
import { Store } from './store';
import type { TokenSource } from './token';
import { PROBE_TIMEOUT, heartbeatTimeLeft, liveBytes, readingSignOfLife } from './heartbeat';
import { heartbeatWatch, type HeartbeatWatch } from './heartbeat-watch';
import type { ConnectionHandler, ConnectionOptions } from './connection-options';
import { scheduleRefresh } from './token-refresh';
import type { Transport, TransportClose, TransportContext } from './transport';
import type { LineOwner } from './line-events';
import { LineEvents } from './line-events';
import type { LiveLine, TransportPlan } from './transport-plan';
import type { ProbeSuccess } from './upgrade-probe';
import { invalidFrame } from './unusable-message';

export type { ConnectionHandler, ConnectionOptions } from './connection-options';

/** Uptime after which a drop counts as a fresh start for backoff. */
const MIN_UPTIME = 5000;

/**
 * The connection lifecycle: an explicit state machine whose only mutator is
 * `#transition`. Events from a transport that is no longer current are dropped
 * by comparing ids, so a late close from an old socket can never kill a new one.
 */
export class Connection extends Store<ConnectionSnapshot> implements LiveLine, LineOwner {
  readonly #plan: TransportPlan;
  readonly #tokens: TokenSource;
  readonly #clock: Clock;
  readonly #backoff: Backoff;
  readonly #connectTimeout: number;
  readonly #context: Omit<TransportContext, 'token'>;
  readonly #handler: ConnectionHandler;
  #transport: Transport | undefined;
  #transportId = 0;
  #attempt = 0;
  /** After a close with `retryAfter`, later attempts back off on the hint's scale (see HintedBackoff). */
  #hinted: HintedBackoff | undefined;
  #connectedAt = 0;
  #lastFrameAt = 0;
  #heartbeatMs = 0;
  /** Whole frames received when bytes last started arriving without one, and since when (see readingSignOfLife); made on first use. */
  #reading: { frames: number; since: number } | undefined;
  /** Bytes reported since the last frame (or the last time they counted as a sign of life). */
  #unframedBytes = 0;
  #triedFreshToken = false;
  #unwatchNetwork: (() => void) | undefined;
  /** What the state waits for: the first frame (connecting), the next attempt (reconnecting); cancelled by every transition. */
  #stateTimer: Timer | undefined;
  /** While connected, the heartbeat watch this line is on instead (an idle client holds no timer of its own). */
  #watch: HeartbeatWatch | undefined;
  /** The token refresh and the line check: made on first use (most clients never need them). */
  #refresh: Timer | undefined;
  #probe: Timer | undefined;
  /** When the pending line check's ping left (0: none pending), to time its pong. */
  #pingAt = 0;
  /** Counters of what went over the line, bumped in place. */
  readonly counts_ = newCounters();
  /** Their subscribable snapshot, made on first use (see `metrics`). */
  #metrics: MetricsStore | undefined;

  constructor({ plan_: plan, tokens_: tokens, clock_: clock, backoff_: backoff, connectTimeout_: connectTimeout, context_: context, handler_: handler }: ConnectionOptions) {
    // A throwing `client.subscribe` listener is reported on the client's `error` event.
    super({ state: 'idle' }, handler.onError_);
    this.#plan = plan;
    this.#tokens = tokens;
    this.#clock = clock;
    this.#backoff = backoff;
    this.#connectTimeout = connectTimeout;
    this.#context = context;
    this.#handler = handler;
  }

  // Itself the LiveLine it lends its plan (to race or probe another transport and switch): no per-client object.

  get clock(): Clock {
    return this.#clock;
  }

  get connectTimeout(): number {
    return this.#connectTimeout;
  }

  /** What to open another transport with. A probe goes without a token rather than not at all when getToken() fails; the server decides. */
  async context(): Promise<TransportContext> {
    return { ...this.#context, token: await this.#tokens.get_('connect').catch(() => undefined) };
  }

  busy_(): boolean {
    return this.#handler.busy_?.() === true;
  }

  /** The counters as a subscribable snapshot with the outbox depth and the transport (made on first use). */
  get metrics_(): MetricsStore {
    return (this.#metrics ??= new MetricsStore(this.counts_, () => {
      const { transport, transportReason } = this.read_() as { transport?: ConnectionSnapshot['transport']; transportReason?: TransportReason };
      return { queued: this.#handler.queued_?.() ?? 0, transport, transportReason };
    }, this.#handler.onError_)); // a throwing `client.metrics.subscribe` listener is reported on `error`
  }

  /** Which line is live: bumped whenever one ends or is switched, so work begun for a line can tell it is gone. */
  get lineId_(): number { return this.#transportId; }

  get state_(): ConnectionSnapshot['state'] {
    return this.read_().state;
  }

  connect_(): void {
    const { state } = this.read_();
    if (state === 'reconnecting') return this.wake_();
    if (state !== 'idle' && state !== 'closed' && state !== 'failed') return;
    this.#attempt = 0;
    this.#triedFreshToken = false;
    this.#unwatchNetwork ??= watchNetwork((event) => this.wake_(event));
    void this.#open();
  }

  /** Send a frame on the live transport. Callers check `state === 'connected'` first. */
  send_(frame: string): void {
    if (!this.#transport) return;
    this.#transport.send(frame);
    const m = this.counts_;
    m.framesOut++;
    m.bytesOut += frame.length;
    this.#metrics?.changed_();
  }

  close_(): void {
    if (this.state_ === 'closed') return;
    this.#teardown();
    // Pending work settles before listeners hear `closed`: one that reopens at once keeps its new work.
    this.#transition({ state: 'closed' }, 'closed by the app', () => this.#handler.onTerminated_(new ConnectionError('closed', 'the client was closed')));
  }

  /** The network or the page came back: retry now instead of waiting, or check a live line. */
  wake_(event?: string): void {
    const { state } = this.read_();
    if (state === 'reconnecting' && event !== 'offline') {
      void this.#open(); // its transition cancels the pending attempt
    } else if (state === 'connected') {
      this.checkLine_();
    }
  }

  /** Ask the server for a pong; no frame at all within `PROBE_TIMEOUT` means the line is dead. */
  checkLine_(): void {
    if (this.state_ !== 'connected' || this.#probe?.armed_) return;
    const since = (this.#pingAt = this.#clock.now());
    this.send_(encodeFrame({ type: 'ping' }));
    (this.#probe ??= new Timer(this.#clock)).start_(PROBE_TIMEOUT, () => {
      if (this.#lastFrameAt < since) this.#lost({ code: 'heartbeat_timeout', message: 'no answer to a line check' });
    });
  }

  /** Force the current transport down as if the network dropped (tests, transport upgrades). */
  drop_(message = 'dropped by the client'): void {
    if (this.#transport) this.#lost({ message });
  }

  async #open(): Promise<void> {
    const id = ++this.#transportId;
    const { factory, reason } = this.#plan.current();
    this.#transition(
      { state: 'connecting', transport: factory.name, transportReason: reason, attempt: ++this.#attempt },
      'opening transport',
    );
    let token: string | undefined;
    try {
      // Bounded by the connect timeout: a getToken that hangs must not keep us `connecting` forever.
      const deadline = { clock_: this.#clock, ms_: this.#connectTimeout };
      token = await this.#tokens.get_(this.#triedFreshToken ? 'expired' : 'connect', deadline);
    } catch (cause) {
      // `listener_error` (threw) or `timeout` (hung): backs off, but not held against the transport (no fallback).
      if (id !== this.#transportId) return;
      const error = cause instanceof TidewireError ? cause : new TidewireError('listener_error', String(cause), { cause });
      if (error.code === 'listener_error') this.#handler.onError_(error);
      this.#lost({ message: error.message, cause }, { error_: error, blameTransport_: false });
      return;
    }
    if (id !== this.#transportId) return; // closed or superseded while we waited for the token

    const events = new LineEvents(this, id, true, token);
    try {
      this.#transport = factory.open({ ...this.#context, token }, events);
    } catch (cause) {
      // A transport that cannot even start (no WebSocket implementation, bad URL) is a setup error.
      const error = cause instanceof TidewireError ? cause : new TidewireError('transport_error', String(cause), { cause });
      this.#fail(error);
      this.#handler.onError_(error);
      return;
    }
    this.#wait(this.#connectTimeout, () => this.#lost({ message: `no answer from the server within ${this.#connectTimeout} ms` }));
    this.#lastFrameAt = this.#clock.now();
    // A plan with several transports may race the next one (it then ends this line via `switchTo`).
    this.#plan.connecting?.(this);
  }

  // The events of the line with this id (see LineEvents); once the id is stale, every event is dropped.

  lineOpened_(line: LineEvents): void {
    if (line.id_ === this.#transportId && line.greets_) this.send_(connectFrame(line.token_));
  }

  lineFrame_(id: number, text: string): void {
    if (id === this.#transportId) this.#receive(text);
  }

  lineActivity_(id: number, bytes?: number): void {
    if (id !== this.#transportId) return;
    // Bytes since the last frame count once they add up to liveBytes(): a large frame arriving keeps
    // the line alive, a trickle or a proxy's keep-alive comments around a dead server do not.
    if (bytes !== undefined && (this.#unframedBytes += bytes) < liveBytes(this.#heartbeatMs)) return;
    this.#unframedBytes = 0;
    const now = (this.#lastFrameAt = this.#clock.now());
    if (readingSignOfLife((this.#reading ??= { frames: -1, since: 0 }), this.counts_.framesIn, now, this.#heartbeatMs, this.state_ === 'connected')) {
      this.send_(encodeFrame({ type: 'pong' }));
    }
  }

  /** A transport discarded something that is not a frame: the same report (and, while connecting, the same end) as an undecodable frame. */
  lineInvalid_(id: number, reason: string): void {
    if (id !== this.#transportId) return;
    const error = new ProtocolError('invalid_frame', `the server sent an invalid frame: ${reason}`);
    this.#handler.onError_(error);
    if (this.state_ === 'connecting') this.#lost({ message: error.message, cause: error });
  }

  lineClosed_(id: number, info: TransportClose): void {
    if (id === this.#transportId) this.#lost(info);
  }

  #receive(text: string): void {
    const m = this.counts_;
    m.framesIn++;
    m.bytesIn += text.length;
    this.#metrics?.changed_();
    this.#lastFrameAt = this.#clock.now();
    this.#unframedBytes = 0;
    const decoded = decodeServerFrame(text);
    if (!decoded.ok) {
      // A message whose identity is intact goes on to be consumed at its offset (see unusable-message.ts).
      const error = invalidFrame(text, decoded.reason, this.state_ === 'connected');
      if (!(error instanceof ProtocolError)) return this.#handler.onFrame_(error);
      this.#handler.onError_(error);
      // Garbage instead of a handshake means this endpoint does not speak our protocol.
      if (this.state_ === 'connecting') this.#lost({ message: error.message, cause: error });
      return;
    }
    const frame = decoded.frame;
    switch (frame.type) {
      case 'connected':
        if (this.state_ === 'connecting') this.#becomeConnected(frame);
        return;
      case 'ping':
        return this.send_(encodeFrame({ type: 'pong' }));
      case 'pong':
        if (this.#pingAt) m.rtt = this.#lastFrameAt - this.#pingAt;
        this.#pingAt = 0;
        return;
      case 'close':
        return this.#lost({ code: frame.code, message: frame.message, retryAfter: frame.retryAfter });
      case 'refreshed':
        return this.#scheduleRefresh(frame.expiresIn);
      default:
        if (this.state_ === 'connected') this.#handler.onFrame_(frame);
    }
  }

  /** The plan's current transport is the one that connected: the plan only moves on after a failure, which ends the line. */
  #becomeConnected(frame: ConnectedFrame): void {
    const { factory, reason } = this.#plan.current();
    this.#lastFrameAt = this.#connectedAt = this.#clock.now();
    // On a fallback, the plan may now probe the preferred transport in the background.
    this.#plan.succeeded(this);
    this.#triedFreshToken = false;
    this.#hinted?.reset_();
    this.#heartbeatMs = frame.heartbeat;
    // Watched before the transition: an app listener that closes the client takes it off again.
    this.#stateTimer?.stop_();
    this.#stateTimer = undefined; // the next one is made when needed
    (this.#watch ??= heartbeatWatch(this.#clock)).add_(this, heartbeatTimeLeft(frame.heartbeat, 0));
    // The client takes the new line (pacer, resubscribes, outbox, refresh timer) before app listeners hear of it:
    // what a `connected` listener publishes queues behind what waited, and a close() there stops all of it.
    const settle = (): void => (this.#scheduleRefresh(frame.expiresIn), this.#handler.onConnected_(frame));
    const snapshot = { state: 'connected', transport: factory.name, transportReason: reason, session: frame.session } as const;
    this.#transition(snapshot, reason === 'upgraded' ? 'upgraded' : 'server accepted', settle);
  }

  /**
   * Make a probed transport the live one. The old line becomes stale (its late frames are
   * dropped); the client resubscribes every channel from its position and re-sends
   * unacknowledged publishes with their ids, so nothing is lost or repeated.
   */
  switchTo({ transport, adopt, connected }: ProbeSuccess): void {
    const previous = this.#transport;
    const id = ++this.#transportId;
    this.#transport = transport;
    adopt(new LineEvents(this, id, false));
    previous?.close();
    this.#handler.onDisconnected_();
    this.#attempt = 0;
    this.#becomeConnected(connected);
  }

  /** Refresh the token in band before it expires (see scheduleRefresh). */
  #scheduleRefresh(expiresIn: number | undefined): void {
    if (expiresIn === undefined && !this.#refresh) return; // nothing armed, nothing to arm
    scheduleRefresh((this.#refresh ??= new Timer(this.#clock)), this.#tokens, this.#clock, this.#connectTimeout, expiresIn, this, (info) => this.#lost(info), this.#handler.onError_);
  }

  /** The heartbeat deadline check (see heartbeatTimeLeft), called by the heartbeat watch while connected. @returns ms left; 0 or less: the line has ended */
  heartbeatLeft_(): number {
    const silentFor = this.#clock.now() - this.#lastFrameAt;
    const left = heartbeatTimeLeft(this.#heartbeatMs, silentFor);
    if (left <= 0) this.#lost({ code: 'heartbeat_timeout', message: `no frame from the server for ${silentFor} ms` });
    return left;
  }

  /** Arm the state timer (made when first needed after a connected spell). */
  #wait(ms: number, fn: () => void): void {
    (this.#stateTimer ??= new Timer(this.#clock)).start_(ms, fn);
  }

  /**
   * The current transport is gone: decide between retrying and giving up, in one place.
   * @param error the error to show in the snapshot (default: one made from `info`).
   * @param blameTransport whether a failure before the server spoke counts against the transport
   *   (fallback); false when the app's `getToken` failed and the transport was never tried.
   */
  #lost(info: TransportClose, { error_: given, blameTransport_: blameTransport = true }: { error_?: TidewireError; blameTransport_?: boolean } = {}): void {
    const previous = this.read_();
    if (previous.state !== 'connecting' && previous.state !== 'connected') return;
    this.#teardown({ keepWatching: true });
    const error = given ?? new TidewireError(info.code ?? 'transport_error', info.message, { cause: info.cause, context: { transport: previous.transport } });
    if (isFatalClose(info.code)) return this.#fail(error);
    if (needsNewToken(info.code)) {
      if (!this.#tokens.canRefresh_ || this.#triedFreshToken) return this.#fail(error);
      this.#triedFreshToken = true;
    }

    const plan = this.#plan;
    const now = this.#clock.now();
    let immediate = false;
    if (previous.state === 'connected') {
      if (now - this.#connectedAt >= MIN_UPTIME) this.#attempt = 0;
    } else if (blameTransport) {
      // Failed before the server spoke: counts against this transport; a switch retries at once.
      immediate = plan.failed(now) && plan.current().reason === 'fallback';
    }
    const delay = Math.max(immediate ? 0 : this.#backoff(this.#attempt + 1), (this.#hinted ??= new HintedBackoff()).next_(info.retryAfter));
    countReconnect(this.counts_, error.code);
    this.#handler.onDisconnected_();
    this.#transition(
      { state: 'reconnecting', transport: plan.current().factory.name, attempt: this.#attempt + 1, retryIn: delay, error },
      error.message,
    );
    this.#wait(delay, () => void this.#open());
  }

  #fail(error: TidewireError): void {
    this.#teardown();
    this.#transition({ state: 'failed', error }, error.message, () => this.#handler.onTerminated_(error)); // as in close_()
  }

  #teardown({ keepWatching = false } = {}): void {
    this.#transportId++; // every callback of the old transport is now stale
    const transport = this.#transport;
    this.#transport = undefined;
    this.#pingAt = 0;
    transport?.close();
    this.#plan.stop();
    this.#stateTimer?.stop_();
    this.#watch?.delete_(this);
    this.#watch = undefined;
    this.#refresh?.stop_();
    this.#probe?.stop_();
    if (!keepWatching) {
      this.#unwatchNetwork?.();
      this.#unwatchNetwork = undefined;
    }
  }

  /** `settle`: what the SDK does in the new state before app listeners hear of it (they are skipped if it moved on meanwhile). */
  #transition(to: ConnectionSnapshot, reason: string, settle?: () => void): void {
    const from = this.read_();
    this.#stateTimer?.stop_();
    this.setSnapshot(to, settle);
    if (this.read_() !== to) return; // settled into another state, which told the listeners itself
    this.#metrics?.changed_();
    this.#handler.onStateChange_({ from, to, reason });
  }
}

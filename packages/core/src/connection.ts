import type { Backoff } from './backoff';
import type { Clock } from './clock';
import { Timer } from './clock';
import type { ConnectionSnapshot, StateChange, TransportReason } from './connection-state';
import { ConnectionError, ProtocolError, TidewireError } from './errors';
import { watchNetwork } from './network-watch';
import type { ConnectedFrame, ServerFrame } from './protocol/frames';
import { PROTOCOL_VERSION } from './protocol/frames';
import { decodeServerFrame, encodeFrame } from './protocol/codec';
import { isFatalClose, needsNewToken } from './retry-policy';
import { Store } from './store';
import type { TokenSource } from './token';
import type { Transport, TransportClose, TransportContext, TransportEvents, TransportName } from './transport';
import type { TransportPlan } from './transport-plan';
import type { Probe } from './upgrade-probe';

/** What the connection tells the client that owns it. */
export interface ConnectionHandler {
  onStateChange(change: StateChange): void;
  onConnected(frame: ConnectedFrame): void;
  /** Every server frame that is not about the connection itself. */
  onFrame(frame: ServerFrame): void;
  /** The line dropped; the connection will retry. In-flight work must be re-sent later. */
  onDisconnected(error: TidewireError): void;
  /** The connection ended for good (closed or failed). Pending work must settle now. */
  onTerminated(error: TidewireError): void;
  /** A problem worth reporting that does not end anything (e.g. a malformed frame). */
  onError(error: TidewireError): void;
}

export interface ConnectionOptions {
  url: string;
  plan: TransportPlan;
  tokens: TokenSource;
  clock: Clock;
  backoff: Backoff;
  /** Deadline for the server's first frame after opening a transport. */
  connectTimeout: number;
  /** How long a line check (ping) may go unanswered. */
  probeTimeout: number;
  /** Uptime after which a drop counts as a fresh start for backoff. */
  minUptime: number;
  transportContext: Omit<TransportContext, 'url' | 'token'>;
  /** First delay before probing the preferred transport while on a fallback; doubles per failed probe. */
  upgradeDelay: number;
  handler: ConnectionHandler;
}

/**
 * The connection lifecycle: an explicit state machine whose only mutator is
 * `#transition`. Events from a transport that is no longer current are dropped
 * by comparing ids, so a late close from an old socket can never kill a new one.
 */
export class Connection extends Store<ConnectionSnapshot> {
  #transport: Transport | undefined;
  #transportId = 0;
  #attempt = 0;
  #connectedAt = 0;
  #lastFrameAt = 0;
  #heartbeatMs = 0;
  #triedFreshToken = false;
  #refreshCount = 0;
  #unwatchNetwork: (() => void) | undefined;
  #upgrade: Probe | undefined;
  #upgradeFailures = 0;
  readonly #firstFrame: Timer;
  readonly #heartbeat: Timer;
  readonly #retry: Timer;
  readonly #refresh: Timer;
  readonly #probe: Timer;
  readonly #upgradeTimer: Timer;

  constructor(private readonly options: ConnectionOptions) {
    super({ state: 'idle' });
    const { clock } = options;
    this.#firstFrame = new Timer(clock);
    this.#heartbeat = new Timer(clock);
    this.#retry = new Timer(clock);
    this.#refresh = new Timer(clock);
    this.#probe = new Timer(clock);
    this.#upgradeTimer = new Timer(clock);
  }

  get state(): ConnectionSnapshot['state'] {
    return this.getSnapshot().state;
  }

  connect(): void {
    const { state } = this.getSnapshot();
    if (state === 'reconnecting') return this.wake();
    if (state !== 'idle' && state !== 'closed' && state !== 'failed') return;
    this.#attempt = 0;
    this.#triedFreshToken = false;
    this.#unwatchNetwork ??= watchNetwork((event) => this.wake(event));
    void this.#open();
  }

  /** Send a frame on the live transport. Callers check `state === 'connected'` first. */
  send(frame: string): void {
    this.#transport?.send(frame);
  }

  close(): void {
    if (this.state === 'closed') return;
    this.#teardown();
    this.#transition({ state: 'closed' }, 'closed by the app');
    this.options.handler.onTerminated(new ConnectionError('closed', 'the client was closed'));
  }

  /** The network or the page came back: retry now instead of waiting, or check a live line. */
  wake(event?: string): void {
    const { state } = this.getSnapshot();
    if (state === 'reconnecting' && event !== 'offline') {
      this.#retry.stop();
      void this.#open();
    } else if (state === 'connected') {
      this.checkLine();
    }
  }

  /** Ask the server for a pong; no frame at all within `probeTimeout` means the line is dead. */
  checkLine(): void {
    if (this.state !== 'connected' || this.#probe.armed) return;
    const since = this.options.clock.now();
    this.send(encodeFrame({ type: 'ping' }));
    this.#probe.start(this.options.probeTimeout, () => {
      if (this.#lastFrameAt < since) this.#lost({ code: 'heartbeat_timeout', message: 'no answer to a line check' });
    });
  }

  /** Force the current transport down as if the network dropped (tests, transport upgrades). */
  drop(message = 'dropped by the client'): void {
    if (this.#transport) this.#lost({ message });
  }

  async #open(): Promise<void> {
    const id = ++this.#transportId;
    const { plan, tokens, clock, handler } = this.options;
    const { factory, reason } = plan.current();
    this.#attempt++;
    this.#transition(
      { state: 'connecting', transport: factory.name, transportReason: reason, attempt: this.#attempt },
      'opening transport',
    );
    let token: string | undefined;
    try {
      token = await tokens.get(this.#triedFreshToken ? 'expired' : 'connect');
    } catch (cause) {
      if (id === this.#transportId) this.#lost({ message: 'getToken() failed', cause });
      return;
    }
    if (id !== this.#transportId) return; // closed or superseded while we waited for the token

    const events = this.#lineEvents(id, () =>
      this.send(encodeFrame({ type: 'connect', v: PROTOCOL_VERSION, ...(token ? { token } : {}) })),
    );
    try {
      this.#transport = factory.open({ ...this.options.transportContext, url: this.options.url, token }, events);
    } catch (cause) {
      // A transport that cannot even start (no WebSocket implementation, bad URL) is a setup error.
      const error = cause instanceof TidewireError ? cause : new TidewireError('transport_error', String(cause), { cause });
      this.#fail(error);
      handler.onError(error);
      return;
    }
    this.#firstFrame.start(this.options.connectTimeout, () =>
      this.#lost({ message: `no answer from the server within ${this.options.connectTimeout} ms` }),
    );
    this.#lastFrameAt = clock.now();
  }

  /** Events for the line with this id; once the id is stale, every event is dropped. */
  #lineEvents(id: number, onOpen: () => void): TransportEvents {
    return {
      onOpen: () => {
        if (id === this.#transportId) onOpen();
      },
      onFrame: (text) => {
        if (id === this.#transportId) this.#receive(text);
      },
      onClose: (info) => {
        if (id === this.#transportId) this.#lost(info);
      },
    };
  }

  #receive(text: string): void {
    this.#lastFrameAt = this.options.clock.now();
    const decoded = decodeServerFrame(text);
    const { handler } = this.options;
    if (!decoded.ok) {
      const error = new ProtocolError('invalid_frame', `the server sent an invalid frame: ${decoded.reason}`, {
        context: { frame: text.slice(0, 200) },
      });
      handler.onError(error);
      // Garbage instead of a handshake means this endpoint does not speak our protocol.
      if (this.state === 'connecting') this.#lost({ message: error.message, cause: error });
      return;
    }
    const frame = decoded.frame;
    switch (frame.type) {
      case 'connected':
        return this.#onConnected(frame);
      case 'ping':
        return this.send(encodeFrame({ type: 'pong' }));
      case 'pong':
        return;
      case 'close':
        return this.#lost({ code: frame.code, message: frame.message, retryAfter: frame.retryAfter });
      case 'refreshed':
        return this.#scheduleRefresh(frame.expiresIn);
      default:
        if (this.state === 'connected') handler.onFrame(frame);
    }
  }

  #onConnected(frame: ConnectedFrame): void {
    const snapshot = this.getSnapshot();
    if (snapshot.state !== 'connecting') return;
    this.#becomeConnected(frame, snapshot.transport, snapshot.transportReason);
  }

  #becomeConnected(frame: ConnectedFrame, transport: TransportName, transportReason: TransportReason): void {
    this.#firstFrame.stop();
    this.#heartbeat.stop();
    this.#lastFrameAt = this.options.clock.now();
    this.options.plan.succeeded();
    this.#triedFreshToken = false;
    this.#connectedAt = this.options.clock.now();
    this.#heartbeatMs = frame.heartbeat;
    this.#transition(
      { state: 'connected', transport, transportReason, session: frame.session },
      transportReason === 'upgraded' ? 'upgraded' : 'server accepted',
    );
    this.#checkHeartbeat();
    this.#scheduleRefresh(frame.expiresIn);
    this.#upgradeFailures = 0;
    this.#scheduleUpgrade();
    this.options.handler.onConnected(frame);
  }

  /** While on a fallback, keep probing the preferred transport in the background (with backoff). */
  #scheduleUpgrade(): void {
    const snapshot = this.getSnapshot();
    if (snapshot.state !== 'connected' || snapshot.transportReason === 'preferred') return;
    const delay = Math.min(this.options.upgradeDelay * 2 ** this.#upgradeFailures, 300_000);
    this.#upgradeTimer.start(delay, () => void this.#tryUpgrade());
  }

  async #tryUpgrade(): Promise<void> {
    const { plan, tokens, clock, connectTimeout } = this.options;
    let token: string | undefined;
    try {
      token = await tokens.get('connect');
    } catch {
      token = undefined;
    }
    if (this.state !== 'connected') return;
    const probe = plan.probe({ ...this.options.transportContext, url: this.options.url, token }, clock, connectTimeout);
    if (!probe) return;
    this.#upgrade = probe;
    let success;
    try {
      success = await probe.result;
    } catch {
      if (this.#upgrade === probe) {
        this.#upgrade = undefined;
        this.#upgradeFailures++;
        this.#scheduleUpgrade();
      }
      return;
    }
    this.#upgrade = undefined;
    if (this.state !== 'connected') return success.transport.close();
    plan.upgraded();
    this.#switchTo(success.transport, success.adopt, success.connected, plan.current().factory.name);
  }

  /**
   * Make a probed transport the live one. The old line becomes stale (its late frames are
   * dropped); the client resubscribes every channel from its position and re-sends
   * unacknowledged publishes with their ids, so nothing is lost or repeated.
   */
  #switchTo(transport: Transport, adopt: (events: TransportEvents) => void, frame: ConnectedFrame, name: TransportName): void {
    const previous = this.#transport;
    const id = ++this.#transportId;
    this.#transport = transport;
    adopt(this.#lineEvents(id, () => {}));
    previous?.close();
    this.options.handler.onDisconnected(new TidewireError('transport_error', `upgrading to ${name}`));
    this.#attempt = 0;
    this.#becomeConnected(frame, name, 'upgraded');
  }

  /**
   * One timer aimed at an absolute deadline (last frame + allowance). Frames only
   * move `#lastFrameAt`; a late-firing timer in a throttled tab re-checks the real
   * time instead of declaring the line dead.
   */
  #checkHeartbeat = (): void => {
    const allowed = this.#heartbeatMs + Math.max(1000, this.#heartbeatMs / 2);
    const silentFor = this.options.clock.now() - this.#lastFrameAt;
    if (silentFor >= allowed) {
      this.#lost({ code: 'heartbeat_timeout', message: `no frame from the server for ${silentFor} ms` });
    } else {
      this.#heartbeat.start(allowed - silentFor, this.#checkHeartbeat);
    }
  };

  #scheduleRefresh(expiresIn: number | undefined): void {
    const { tokens } = this.options;
    if (expiresIn === undefined || !tokens.canRefresh) return;
    const lead = Math.min(30_000, expiresIn / 5);
    this.#refresh.start(Math.max(0, expiresIn - lead), () => {
      tokens.get('refresh').then(
        (token) => {
          if (token && this.state === 'connected') {
            this.send(encodeFrame({ type: 'refresh', id: `refresh-${++this.#refreshCount}`, token }));
          }
        },
        // A failed refresh is not fatal yet: the server closes with token_expired and we reconnect.
        (cause: unknown) => this.options.handler.onError(new TidewireError('unauthorized', 'getToken() failed during refresh', { cause })),
      );
    });
  }

  /** The current transport is gone: decide between retrying and giving up, in one place. */
  #lost(info: TransportClose): void {
    const previous = this.getSnapshot();
    if (previous.state !== 'connecting' && previous.state !== 'connected') return;
    this.#teardown({ keepWatching: true });
    const error = new TidewireError(info.code ?? 'transport_error', info.message, {
      cause: info.cause,
      context: { transport: previous.transport },
    });
    if (isFatalClose(info.code)) return this.#fail(error);
    if (needsNewToken(info.code)) {
      if (!this.options.tokens.canRefresh || this.#triedFreshToken) return this.#fail(error);
      this.#triedFreshToken = true;
    }

    const { plan, clock, backoff, handler } = this.options;
    let immediate = false;
    if (previous.state === 'connected') {
      if (clock.now() - this.#connectedAt >= this.options.minUptime) this.#attempt = 0;
    } else {
      // Failed before the server spoke: counts against this transport; a switch retries at once.
      immediate = plan.failed(clock.now()) && plan.current().reason === 'fallback';
    }
    const delay = Math.max(immediate ? 0 : backoff(this.#attempt + 1), info.retryAfter ?? 0);
    handler.onDisconnected(error);
    this.#transition(
      { state: 'reconnecting', transport: plan.current().factory.name, attempt: this.#attempt + 1, retryIn: delay, error },
      error.message,
    );
    this.#retry.start(delay, () => void this.#open());
  }

  #fail(error: TidewireError): void {
    this.#teardown();
    this.#transition({ state: 'failed', error }, error.message);
    this.options.handler.onTerminated(error);
  }

  #teardown({ keepWatching = false } = {}): void {
    this.#transportId++; // every callback of the old transport is now stale
    const transport = this.#transport;
    this.#transport = undefined;
    transport?.close();
    this.#upgrade?.cancel();
    this.#upgrade = undefined;
    for (const timer of [this.#firstFrame, this.#heartbeat, this.#retry, this.#refresh, this.#probe, this.#upgradeTimer]) timer.stop();
    if (!keepWatching) {
      this.#unwatchNetwork?.();
      this.#unwatchNetwork = undefined;
    }
  }

  #transition(to: ConnectionSnapshot, reason: string): void {
    const from = this.getSnapshot();
    this.setSnapshot(to);
    this.options.handler.onStateChange({ from, to, reason });
  }
}

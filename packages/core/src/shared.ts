import { nanoid } from 'nanoid';
import type { ChannelOptions } from './channel';
import type { ClientEvents, ClientOptions } from './client';
import type { TidewireClient } from './client-surface';
import type { ConnectionSnapshot } from './connection-state';
import { Emitter } from './emitter';
import { TidewireError } from './errors';
import type { HistoryOptions, HistoryPage } from './history';
import { callSafely, reportsTo, reportUncaught, type ReportError } from './isolate';
import type { PublishResult, RequestRules } from './outbox';
import type { PendingPublish } from './outbox-storage';
import type { PublishFrame, RpcFrame } from './protocol/frames';
import { validatePublishId, type PublishOptions } from './publish-options';
import { resolveUrl } from './resolve-url';
import { checkClientOptions } from './client-options';
import type { InferOutput, StandardSchemaV1 } from './schema';
import { LeaderElection } from './shared-election';
import { holdTabLock, type SharedLink } from './shared-link';
import type { LeaderMessage, TabMessage, WireHistoryPage } from './shared-messages';
import { fromWire, PendingAcks, tabState, toWire } from './shared-messages';
import { SharedChannel, TabChannel } from './shared-tab-channel';
import type { TabChannelHost } from './shared-tab-channel';
import type { PresenceLine } from './shared-tab-presence';
import { WorkerLink } from './shared-worker-link';

export type { SharedState, WireError } from './shared-messages';
export { SharedChannel } from './shared-tab-channel';
export { SharedPresence } from './shared-tab-presence';
export { inProcessLocks } from './shared-locks';

/** Options of {@link createSharedClient}: the client's, plus how tabs find each other and where the connection lives. */
export interface SharedClientOptions extends ClientOptions {
  /** Tabs with one name share one connection and its holder's token: one name per user (docs/shared.md). Default `tidewire:` + the url. */
  name?: string;
  /**
   * Creates the SharedWorker that runs `serveSharedConnection` (`@tidewire/core/shared-worker`),
   * e.g. `() => new SharedWorker(new URL('./tidewire.worker.ts', import.meta.url), { type: 'module', name: 'tidewire' })`.
   * Without it (or without `SharedWorker` in the browser) a leader tab holds the connection.
   */
  worker?: () => SharedWorker;
  /**
   * Where the connection lives: `auto` (default) — the SharedWorker when `worker` is given and the
   * browser has SharedWorker, falling back to a leader tab if it does not start; `worker` or
   * `leader` force one (a forced worker that does not start leaves the client `failed`).
   */
  mode?: 'auto' | 'worker' | 'leader';
  /** Ms to wait for the SharedWorker's first answer before giving up on it. Default 5000. */
  workerTimeout?: number;
  /** After a takeover, ms the new leader collects the tabs' positions before resubscribing. Default 250. */
  takeoverWindow?: number;
  /** Injected implementations (tests, or platforms without them globally). */
  locks?: LockManager;
  BroadcastChannel?: typeof BroadcastChannel;
}

/** Events of a {@link SharedClient}: a private client's — `state` (`{ from, to, reason }`), `error`, `pending` — and `tabs` (how many tabs use the connection changed). */
export interface SharedClientEvents extends ClientEvents {
  tabs: (count: number) => void;
}

/**
 * One tab's view of a connection shared by every tab of the origin — in a SharedWorker, or in a
 * leader tab elected with Web Locks. Channels, publish, presence, history, rpc (`@tidewire/core/rpc`)
 * and the pending publishes behave as with a private client. When a leader tab closes, the next
 * one takes over, collects every tab's last positions and resubscribes from there: no tab loses or
 * repeats a message, and publishes still waiting for their ack are re-sent with their ids.
 */
export class SharedClient extends Emitter<SharedClientEvents> implements TidewireClient {
  readonly #report: ReportError = (error) => void this.emit('error', error);
  readonly #tab = nanoid();
  readonly #options: SharedClientOptions & { name: string };
  readonly #channels = new Map<string, TabChannel>();
  readonly #acks = new PendingAcks();
  readonly #listeners = new Set<() => void>();
  readonly #releaseTabLock: () => void;
  readonly #host: TabChannelHost;
  #link: SharedLink;
  #mode: 'worker' | 'leader' = 'leader';
  #state: ConnectionSnapshot = { state: 'idle' };
  #pending: readonly PendingPublish[] = [];
  #tabs = 0;
  #closed = false;
  /** Whether any holder of the connection spoke to this tab yet; whether the app asked to connect. */
  #heard = false; #connectAsked = false;
  /** Whether this tab holds its tab lock (the holder of the connection watches it to notice the tab going away). */
  #alive = false;
  static { reportsTo(this.prototype, (client: SharedClient) => (#report in client ? client.#report : undefined)); } // (a Proxy has none)

  constructor(options: SharedClientOptions) {
    super();
    const url = resolveUrl(options.url);
    checkClientOptions(options); // here, not in whichever tab leads later (where a throw would reach no one)
    this.#options = { ...options, url, name: options.name ?? `tidewire:${url}` };
    const locks = options.locks ?? globalThis.navigator?.locks;
    this.#releaseTabLock = locks ? holdTabLock(locks, this.#tab, () => this.#sendAlive((this.#alive = true))) : () => {};
    this.#host = {
      publish: (channel, data, publishOptions) => this.publish(channel, data, publishOptions),
      history: (channel, historyOptions) => this.#history(channel, historyOptions),
      presenceLine: (channel) => this.#presenceLine(channel),
      release: (handle) => this.#release(handle),
      report: this.#report,
    };
    try {
      this.#link = this.#connect();
    } catch (error) {
      this.#releaseTabLock(); // a client that never started must not hold its tab lock forever
      throw error;
    }
    this.#send({ t: 'hello', tab: this.#tab });
    globalThis.addEventListener?.('pagehide', () => this.close());
    // A tab back from a freeze asks for what followed its positions (held live messages come after, without duplicates).
    globalThis.document?.addEventListener('resume', () => this.#catchUp());
  }

  /** Whether this tab holds the connection (a leader tab; never with a SharedWorker). */
  get isLeader(): boolean {
    return this.#link.isLeader;
  }

  /** How many tabs use the connection (this one included; 0 until the holder said). The `tabs` event tells when it changes. */
  get tabs(): number {
    return this.#tabs;
  }

  /** Where the connection lives: `worker` (a SharedWorker) or `leader` (a tab elected with Web Locks). */
  get mode(): 'worker' | 'leader' {
    return this.#mode;
  }

  /** The shared connection's state, as a private client's `getSnapshot()` (same identity until it changes). */
  getSnapshot = (): ConnectionSnapshot => this.#state;

  /** Call `listener` after every state change. @returns a function that removes it. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  };

  /**
   * A handle on `name`, as a private client's `channel()`: handles of all tabs share one subscription
   * of the shared connection.
   * @param options `schema` (validated in this tab), `recent` (this tab gets the last `recent`
   *   stored messages first), `since` (this tab delivers only what follows it)
   * @returns the tab's {@link SharedChannel}
   */
  channel<S extends StandardSchemaV1>(name: string, options: { schema: S; since?: ChannelOptions<unknown>['since']; recent?: number }): SharedChannel<InferOutput<S>>;
  channel<T = unknown>(name: string, options?: ChannelOptions<T>): SharedChannel<T>;
  channel<T>(name: string, options: ChannelOptions<T> = {}): SharedChannel<T> {
    let channel = this.#channels.get(name);
    if (!channel) {
      this.#channels.set(name, (channel = new TabChannel(name, this.#report)));
      channel.position = options.since;
      if (options.recent !== undefined && !options.since) [channel.held, channel.asked] = [[], options.recent];
      if (options.since) channel.held = []; // until the holder says what followed `since`
      this.#send({ t: 'sub', tab: this.#tab, channel: name, since: options.since, recent: channel.asked, catchUp: options.since !== undefined });
    }
    const handle = new SharedChannel<T>(name, this.#host, channel, options.schema);
    channel.handles.add(handle as SharedChannel<never>);
    return handle;
  }

  /**
   * Publish through the shared connection.
   * @param options `id`: an idempotency key (1–64 characters; default a random one).
   * @returns the stored position once the server acknowledged it.
   * @throws (rejects) `TidewireError`: `bad_request` for an invalid id, the server's or the connection's code; `closed` after `close()`.
   */
  publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const invalid = validatePublishId(options.id);
    const id = options.id ?? nanoid();
    return this.request({ type: 'publish', id, channel, data }, {}, invalid);
  }

  /**
   * The request path `rpc()` from `@tidewire/core/rpc` uses, as a private client's `request`:
   * publishes are re-sent to a new holder of the connection (by id), rpcs reject `interrupted`.
   * @returns the ack (publish) or the rpc's result
   */
  request<T = PublishResult>(frame: PublishFrame | RpcFrame, rules?: RequestRules, invalid?: TidewireError): Promise<T> {
    if (this.#closed) return Promise.reject(new TidewireError('closed', `cannot ${frame.type}: the shared client is closed`));
    if (invalid) return Promise.reject(invalid);
    const message: TabMessage = frame.type === 'publish' ? { t: 'pub', id: frame.id, channel: frame.channel, data: frame.data } : { t: 'req', frame, rules };
    return this.#acks.request<T>(frame.id, message, (m) => this.#send(m), frame.type === 'publish');
  }

  /** Give up a pending request (rpc's `signal`), rejecting it with `error`. */
  cancelRequest(id: string, error: TidewireError): void {
    if (this.#acks.reject(id, error)) this.#send({ t: 'cancel', id, error: toWire(error) });
  }

  /** How many of the connection's publishes wait for their ack (every tab's). */
  get pendingPublishes(): number {
    return this.#pending.length;
  }

  /** Check the line now (ping with a short deadline) instead of waiting for the heartbeat. */
  checkConnection(): void {
    this.#send({ t: 'check' });
  }

  /** The shared connection's unacknowledged publishes, from every tab, oldest first (restored from `outboxStorage` after a reload too). */
  listPendingPublishes(): PendingPublish[] {
    return [...this.#pending];
  }

  /** Give up a pending publish of the connection (any tab's). @returns false when none with this id is pending. */
  cancelPublish(id: string): boolean {
    if (!this.#pending.some((p) => p.id === id)) return false;
    const error = new TidewireError('aborted', 'the publish was cancelled', { context: { id, cancelled: true } });
    this.#acks.reject(id, error);
    this.#send({ t: 'cancel', id, error: toWire(error) });
    return true;
  }

  /** Open the shared connection now (as a private client's `connect()`; not needed when `lazy`). */
  connect(): void {
    this.#connectAsked = true; // asked again of every new holder: the first tab's may not be elected yet
    this.#send({ t: 'connect' });
  }

  /** Leave: this tab's subscriptions end; a leader tab hands the connection to the next one. */
  close(): void {
    if (this.#closed) return;
    this.#send({ t: 'bye', tab: this.#tab });
    this.#closed = true;
    this.#link.close();
    this.#releaseTabLock();
    this.#acks.rejectAll((id) => new TidewireError('closed', 'the shared client was closed', { context: { id } }));
  }

  protected override onListenerError(error: TidewireError, event: keyof SharedClientEvents): void {
    if (event === 'error') reportUncaught(error);
    else this.#report(error);
  }

  /** The SharedWorker when asked for and available, else the leader election. */
  #connect(mode = this.#options.mode ?? 'auto'): SharedLink {
    const { worker } = this.#options;
    const hasWorker = worker !== undefined && typeof SharedWorker !== 'undefined';
    if (mode === 'worker' && !hasWorker) throw new TidewireError('invalid_options', 'mode "worker" needs the `worker` option and SharedWorker');
    if (mode !== 'leader' && hasWorker) {
      try {
        this.#mode = 'worker';
        return new WorkerLink(worker(), (m) => this.#receive(m), (reason) => this.#workerFailed(reason), this.#options.workerTimeout ?? 5000);
      } catch (cause) {
        if (mode === 'worker') throw new TidewireError('invalid_options', 'the SharedWorker could not be created', { cause });
      }
    }
    this.#mode = 'leader';
    const locks = this.#options.locks ?? globalThis.navigator?.locks;
    const Bus = this.#options.BroadcastChannel ?? globalThis.BroadcastChannel;
    if (!Bus || !locks) throw new TidewireError('invalid_options', 'a shared client needs a SharedWorker, or BroadcastChannel and Web Locks (navigator.locks)');
    const { takeoverWindow = 250, name } = this.#options;
    return new LeaderElection({ name, locks, BroadcastChannel: Bus, client: this.#options, takeoverWindow }, (m) => this.#receive(m));
  }

  #workerFailed(reason: string): void {
    if (this.#closed) return;
    if (this.#options.mode === 'worker') {
      this.#setState({ state: 'failed', error: new TidewireError('transport_error', reason) }, reason);
      return;
    }
    this.#link = this.#connect('leader');
    this.#send({ t: 'hello', tab: this.#tab });
    this.#announce(false); // what this tab sent went to the worker that never started
  }

  #sendAlive(alive: boolean): void {
    if (alive) this.#send({ t: 'alive', tab: this.#tab });
  }

  #send(message: TabMessage): void {
    if (!this.#closed) this.#link.send(message);
  }

  #setState(to: ConnectionSnapshot, reason: string): void {
    const from = this.#state;
    this.#state = to;
    for (const listener of [...this.#listeners]) callSafely(this.#report, 'subscribe', {}, listener);
    this.emit('state', { from, to, reason });
  }

  #catchUp(): void {
    for (const [name, channel] of this.#channels) {
      if (!channel.position || channel.held) continue;
      channel.held = [];
      this.#send({ t: 'sub', tab: this.#tab, channel: name, since: channel.position, catchUp: true });
    }
  }

  /** A new holder of the connection: tell it where this tab is in every channel, and what still waits for an answer. */
  #announce(first: boolean): void {
    this.#sendAlive(this.#alive);
    if (this.#connectAsked) this.#send({ t: 'connect' });
    for (const [channel, { position, held, asked, presence }] of this.#channels) {
      // A catch-up the old holder did not answer: the new one resubscribes from the tabs' positions.
      if (held && asked === undefined) this.#channels.get(channel)!.recent([]);
      this.#send({ t: 'sub', tab: this.#tab, channel, since: position, recent: held && asked });
      presence?.announce();
    }
    for (const message of this.#acks.takeover(first)) this.#send(message);
  }

  #receive(message: LeaderMessage): void {
    // Nothing heard from any holder before this one's `leader`: what this tab sent reached nobody.
    const first = !this.#heard;
    this.#heard = true;
    switch (message.t) {
      case 'leader':
        return this.#announce(first);
      case 'state':
        // Each tab that joins hears the state again: only a change is one (the snapshot keeps its identity).
        if (JSON.stringify(message.state) === JSON.stringify(this.#state)) return;
        return this.#setState(tabState<ConnectionSnapshot>(message.state), message.reason);
      case 'msg':
        return this.#channels.get(message.message.channel)?.deliver(message.message);
      case 'gap':
        return this.#channels.get(message.gap.channel)?.gap(message.gap);
      case 'chstate':
        return this.#channels.get(message.channel)?.state(message.state);
      case 'recent':
        return void (message.tab === this.#tab && this.#channels.get(message.channel)?.recent(message.messages, message.at));
      case 'ack':
        return this.#acks.settle(message.id, message.result, message.error);
      case 'error': {
        const error = fromWire(message.error);
        if (error.context.presence === 'left') this.#channels.get(String(error.context.channel))?.presence?.ended();
        return void this.emit('error', error);
      }
      case 'presence':
        return this.#channels.get(message.channel)?.presence?.update(message.presence);
      case 'pevent':
        return this.#channels.get(message.channel)?.presence?.event(message.event, message.member);
      case 'tabs':
        this.#tabs = message.count;
        return void this.emit('tabs', message.count);
      case 'pending':
        this.#pending = message.list;
        return void this.emit('pending');
    }
  }

  #release(handle: SharedChannel<never>): void {
    const channel = this.#channels.get(handle.name);
    if (!channel?.handles.delete(handle) || channel.handles.size > 0) return;
    this.#channels.delete(handle.name);
    this.#send({ t: 'unsub', tab: this.#tab, channel: handle.name });
  }

  #history<T>(channel: string, options: HistoryOptions = {}): Promise<HistoryPage<T>> {
    if (this.#closed) return Promise.reject(new TidewireError('closed', 'cannot read history: the shared client is closed'));
    const id = nanoid();
    const message: TabMessage = { t: 'history', id, channel, options };
    return this.#acks.request<WireHistoryPage>(id, message, (m) => this.#send(m), true).then(({ messages, epoch, head, hasMore }) => {
      const last = messages.at(-1);
      const forward = options.direction === 'forward';
      return {
        messages: messages as HistoryPage<T>['messages'],
        epoch,
        head,
        hasMore,
        next: () => (hasMore && last ? this.#history<T>(channel, { ...options, ...(forward ? { after: last.offset } : { before: last.offset }) }) : undefined),
      };
    });
  }

  #presenceLine(channel: string): PresenceLine {
    return {
      watch: (on) => this.#send({ t: 'pwatch', tab: this.#tab, channel, on }),
      enter: (info) => {
        if (this.#closed) return Promise.reject(new TidewireError('closed', 'cannot enter: the shared client is closed'));
        const id = nanoid();
        const message: TabMessage = { t: 'enter', tab: this.#tab, id, channel, info };
        return this.#acks.request<void>(id, message, (m) => this.#send(m), true);
      },
      leave: () => this.#send({ t: 'leave', tab: this.#tab, channel }),
    };
  }
}

/**
 * A client whose connection is shared by every tab of the origin (opt-in; `@tidewire/core/shared`):
 * in a SharedWorker when `worker` is given and the browser has one, else in one tab elected with
 * Web Locks (the others use it over a BroadcastChannel). Channels, publish, presence, history, rpc
 * and state behave in each tab as with a private client.
 * @param options `createClient`'s options (the leader tab creates the real client with them), plus
 *   `name` (which tabs share), `worker`, `mode`, `workerTimeout`, `takeoverWindow` (ms, default 250).
 * @returns the tab's {@link SharedClient}.
 * @throws {TidewireError} `invalid_options` with neither a usable SharedWorker nor BroadcastChannel and `navigator.locks`.
 * @example
 * ```ts
 * import { createSharedClient } from '@tidewire/core/shared';
 * const client = createSharedClient({ url: '/tidewire' });
 * client.channel('room:1').on('message', (m) => render(m));
 * ```
 */
export function createSharedClient(options: SharedClientOptions): SharedClient {
  return new SharedClient(options);
}

import { nanoid } from 'nanoid';
import type { ChannelMessage, GapInfo } from './channel-state';
import type { ClientOptions } from './client';
import { Emitter } from './emitter';
import { TidewireError } from './errors';
import type { TidewireErrorCode } from './errors';
import { reportUncaught } from './isolate';
import type { PublishResult } from './outbox';
import type { Position } from './protocol/frames';
import { resolveUrl } from './resolve-url';
import type { LeaderMessage, SharedState, TabMessage } from './shared-leader';
import { SharedLeader } from './shared-leader';

export type { SharedState } from './shared-leader';

/** Options of {@link createSharedClient}: the client's, plus how tabs find each other. */
export interface SharedClientOptions extends ClientOptions {
  /** Tabs with the same name (and origin) share one connection. Default `tidewire:` + the resolved url. */
  name?: string;
  /** After a takeover, ms the new leader collects the tabs' positions before resubscribing. Default 250. */
  takeoverWindow?: number;
  /** Injected implementations (tests, or platforms without them globally). */
  locks?: LockManager;
  BroadcastChannel?: typeof BroadcastChannel;
}

/** Events of a {@link SharedChannel}: each message once, in order, per tab; gaps as on a private client. */
export interface SharedChannelEvents<T> {
  message: (message: ChannelMessage<T>) => void;
  gap: (gap: GapInfo) => void;
}

/** Events of a {@link SharedClient}: `state` after every change of the shared connection's state. */
export interface SharedClientEvents {
  state: (state: SharedState) => void;
}

/** A tab's handle on a channel of the shared connection (release it with `unsubscribe()`). */
export class SharedChannel<T = unknown> extends Emitter<SharedChannelEvents<T>> {
  readonly name: string;
  readonly #client: SharedClient;

  constructor(name: string, client: SharedClient) {
    super();
    this.name = name;
    this.#client = client;
  }

  /** Publish on this channel; resolves with the stored position once the server acknowledged it. */
  publish(data: T, options: { id?: string } = {}): Promise<PublishResult> {
    return this.#client.publish(this.name, data, options);
  }

  /** Release this handle; the tab's subscription ends with its last handle, the connection's with the last tab's. */
  unsubscribe(): void {
    this.#client.release(this as unknown as SharedChannel<never>);
  }

  /** @internal */
  deliver<E extends keyof SharedChannelEvents<T>>(event: E, ...args: Parameters<SharedChannelEvents<T>[E]>): void {
    this.emit(event, ...args);
  }

  protected override onListenerError(error: TidewireError): void {
    reportUncaught(error);
  }
}

interface TabChannel {
  readonly handles: Set<SharedChannel<never>>;
  /** The last position this tab delivered: replays after a takeover are dropped by it. */
  position?: Position;
}

interface PendingPublish {
  readonly channel: string;
  readonly data: unknown;
  resolve(result: PublishResult): void;
  reject(error: TidewireError): void;
}

/**
 * One tab's view of a connection shared by every tab of the origin. The tab holding a Web Lock
 * (the leader) runs the real client; the others talk to it over a BroadcastChannel. When the
 * leader tab closes, the next tab in the lock's queue takes over, collects every tab's last
 * positions and resubscribes from there: no tab loses or repeats a message, and publishes still
 * waiting for their ack are re-sent with their ids (the server stores each once).
 */
export class SharedClient extends Emitter<SharedClientEvents> {
  readonly #tab = nanoid();
  readonly #options: SharedClientOptions;
  readonly #bus: BroadcastChannel;
  readonly #channels = new Map<string, TabChannel>();
  readonly #pending = new Map<string, PendingPublish>();
  readonly #listeners = new Set<() => void>();
  #state: SharedState = { state: 'connecting' };
  #leader: SharedLeader | undefined;
  #releaseLock: (() => void) | undefined;
  /** Whether this tab has a lock request granted or waiting. */
  #queued = false;
  #closed = false;
  readonly #locks: LockManager;
  readonly #name: string;

  constructor(options: SharedClientOptions) {
    super();
    const url = resolveUrl(options.url);
    this.#options = { ...options, url };
    const name = options.name ?? `tidewire:${url}`;
    const Bus = options.BroadcastChannel ?? globalThis.BroadcastChannel;
    const locks = options.locks ?? globalThis.navigator?.locks;
    if (!Bus || !locks) throw new TidewireError('invalid_options', 'a shared client needs BroadcastChannel and Web Locks (navigator.locks)');
    this.#locks = locks;
    this.#name = name;
    this.#bus = new Bus(name);
    this.#bus.onmessage = (event: MessageEvent<LeaderMessage | TabMessage>) => {
      const message = event.data;
      if (this.#leader && isTabMessage(message)) this.#leader.handle(message);
      else if (!isTabMessage(message)) this.#receive(message);
    };
    this.#campaign();
    this.#send({ t: 'hello' });
    globalThis.addEventListener?.('pagehide', () => this.close());
    // A frozen leader would hold the lock (and the connection) while serving nobody: it steps down
    // on `freeze` (Page Lifecycle), so the next tab takes over, and queues again on `resume`.
    globalThis.document?.addEventListener('freeze', () => this.#stepDown());
    globalThis.document?.addEventListener('resume', () => this.#campaign());
  }

  /** Queue for the lock: granted at once to the first tab, else when the leader closes, crashes or freezes. */
  #campaign(): void {
    if (this.#queued || this.#closed) return;
    this.#queued = true;
    void this.#locks
      .request(this.#name, () => {
        if (this.#closed) return;
        this.#leader = new SharedLeader(this.#options, (m) => this.#broadcast(m), this.#options.takeoverWindow ?? 250);
        return new Promise<void>((release) => (this.#releaseLock = release));
      })
      .catch(() => {})
      .finally(() => (this.#queued = false));
  }

  /** Close the connection and free the lock (the next tab in its queue takes over). */
  #stepDown(): void {
    this.#leader?.stop();
    this.#leader = undefined;
    this.#releaseLock?.();
    this.#releaseLock = undefined;
  }

  /** Whether this tab holds the connection. */
  get isLeader(): boolean {
    return this.#leader !== undefined;
  }

  /** The shared connection's state: `{ state, transport?, transportReason?, error?: { code, message } }`. */
  getSnapshot = (): SharedState => this.#state;

  /** Call `listener` after every state change. @returns a function that removes it. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  };

  /** A handle on `name`: handles of all tabs share one subscription of the shared connection. */
  channel<T = unknown>(name: string): SharedChannel<T> {
    const handle = new SharedChannel<T>(name, this);
    let tabChannel = this.#channels.get(name);
    if (!tabChannel) {
      this.#channels.set(name, (tabChannel = { handles: new Set() }));
      this.#send({ t: 'sub', tab: this.#tab, channel: name });
    }
    tabChannel.handles.add(handle as SharedChannel<never>);
    return handle;
  }

  /**
   * Publish through the shared connection.
   * @param options `id`: an idempotency key (default a random one).
   * @returns the stored position once the server acknowledged it.
   * @throws (rejects) `TidewireError` with the server's or the leader client's code; `closed` after `close()`.
   */
  publish(channel: string, data: unknown, { id = nanoid() }: { id?: string } = {}): Promise<PublishResult> {
    if (this.#closed) return Promise.reject(new TidewireError('closed', 'cannot publish: the shared client is closed'));
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { channel, data, resolve, reject });
      this.#send({ t: 'pub', id, channel, data });
    });
  }

  /** @internal Called by `SharedChannel.unsubscribe()`. */
  release(handle: SharedChannel<never>): void {
    const tabChannel = this.#channels.get(handle.name);
    if (!tabChannel?.handles.delete(handle) || tabChannel.handles.size > 0) return;
    this.#channels.delete(handle.name);
    this.#send({ t: 'unsub', tab: this.#tab, channel: handle.name });
  }

  /** Leave: this tab's subscriptions end; if it was the leader, another tab takes the connection over. */
  close(): void {
    if (this.#closed) return;
    this.#send({ t: 'bye', tab: this.#tab });
    this.#closed = true;
    this.#stepDown();
    this.#bus.close();
    for (const [id, p] of this.#pending) p.reject(new TidewireError('closed', 'the shared client was closed', { context: { id } }));
    this.#pending.clear();
  }

  protected override onListenerError(error: TidewireError): void {
    reportUncaught(error);
  }

  #send(message: TabMessage): void {
    if (this.#closed) return;
    if (this.#leader) this.#leader.handle(message);
    else this.#bus.postMessage(message);
  }

  /** From the leader (this tab's, or another's): to the other tabs and to this one. */
  #broadcast(message: LeaderMessage): void {
    if (this.#closed) return;
    this.#bus.postMessage(message);
    this.#receive(message);
  }

  #receive(message: LeaderMessage): void {
    switch (message.t) {
      case 'leader':
        // A new leader: tell it where this tab is in every channel, and what still waits for an ack.
        for (const [channel, { position }] of this.#channels) this.#send({ t: 'sub', tab: this.#tab, channel, since: position });
        for (const [id, { channel, data }] of this.#pending) this.#send({ t: 'pub', id, channel, data });
        return;
      case 'state':
        this.#state = message.state;
        for (const listener of [...this.#listeners]) listener();
        this.emit('state', message.state);
        return;
      case 'msg': {
        const { message: m } = message;
        const tabChannel = this.#channels.get(m.channel);
        const at = tabChannel?.position;
        if (!tabChannel || (at && at.epoch === m.epoch && m.offset <= at.offset)) return; // not ours, or a replay we have
        tabChannel.position = { epoch: m.epoch, offset: m.offset };
        for (const handle of [...tabChannel.handles]) handle.deliver('message', m as ChannelMessage<never>);
        return;
      }
      case 'gap': {
        const tabChannel = this.#channels.get(message.gap.channel);
        if (!tabChannel) return;
        tabChannel.position = message.gap.to;
        for (const handle of [...tabChannel.handles]) handle.deliver('gap', message.gap);
        return;
      }
      case 'ack': {
        const p = this.#pending.get(message.id);
        if (!p) return;
        this.#pending.delete(message.id);
        if (message.result) p.resolve(message.result);
        else p.reject(new TidewireError((message.error?.code ?? 'server_error') as TidewireErrorCode, message.error?.message ?? 'refused', { context: { id: message.id } }));
        return;
      }
    }
  }
}

const TAB_MESSAGES = new Set(['hello', 'sub', 'unsub', 'pub', 'bye']);
const isTabMessage = (m: LeaderMessage | TabMessage): m is TabMessage => TAB_MESSAGES.has(m.t);

/**
 * A client whose connection is shared by every tab of the origin (opt-in; `@tidewire/core/shared`):
 * one tab — elected with Web Locks — holds the connection, the others use it over a
 * BroadcastChannel. Channels, publish and state behave in each tab as with a private client.
 * @param options `createClient`'s options (the leader tab creates the real client with them), plus
 *   `name` (which tabs share), `takeoverWindow` (ms, default 250).
 * @returns the tab's {@link SharedClient}.
 * @throws {TidewireError} `invalid_options` without BroadcastChannel or `navigator.locks`.
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

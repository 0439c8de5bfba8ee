import { Emitter } from './emitter';
import type { ReportError } from './isolate';
import { reportsTo, reportUncaught } from './isolate';
import { Channel } from './channel';
import type { ChannelOptions } from './channel';
import type { ClientEvents, ClientOptions } from './client-options';
import { ClientHost } from './client-host';
import type { EmitClientEvent } from './client-host';
import type { ClientMetrics, MetricsStore } from './metrics';
import type { ConnectionSnapshot } from './connection-state';
import { ConnectionError, TidewireError } from './errors';
import { resolveUrl } from './resolve-url';
import { bindOnRead } from './store';
import type { PendingPublish } from './outbox-storage';
import type { PublishResult, RequestRules } from './outbox';
import type { PublishOptions } from './publish-options';
import { validatePublishId } from './publish-options';
import type { Position, PublishFrame, RpcFrame } from './protocol/frames';
import type { InferOutput, StandardSchemaV1 } from './schema';
import { SharedChannel } from './shared-channel';
import { encodeRequest } from './request-encoding';
import { randomId, rememberOwnId } from './publish-ids';
import { restorePending } from './outbox-restore';
import { encodePayload } from './codec-calls';

export type { ClientEvents, ClientOptions } from './client-options';

/** Raises a client's (protected) events for its host; set in the class body, where `emit` is reachable. */
let emitOn: EmitClientEvent;

/**
 * The public entry point: the app's face of a {@link ClientHost}, which wires the connection
 * (lifecycle), the shared channels (delivery contract) and the outbox (publish contract). It holds
 * no state machine of its own. `subscribe/getSnapshot` expose the connection state to bindings.
 */
export class Client extends Emitter<ClientEvents> {
  readonly #host: ClientHost;
  /** Reports on `error`; registered so helpers built on this client (ChannelView) report their listeners' throws here too. */
  readonly #report: ReportError;
  /** Until what the last run stored is queued, new requests wait behind it (they go after it). */
  #restoring: Promise<void> | undefined;
  /** Requests not yet in the outbox (see `#later`), with the error of a cancel that came meanwhile. */
  #early: Map<string, TidewireError | undefined> | undefined;

  constructor(options: ClientOptions) {
    super();
    // Resolved once here: a relative url is anchored to the page, or fails now with invalid_options.
    options = { ...options, url: resolveUrl(options.url) };
    const host = (this.#host = new ClientHost(options, emitOn, this));
    this.#report = host.report_;
    // Until what the last run stored is queued, new requests wait behind it; then they go after it.
    if (options.outboxStorage) {
      this.#restoring = restorePending(host).then((restored) => {
        this.#restoring = undefined;
        // Not a client the app closed (or that failed) meanwhile: its stored publishes wait for the next start.
        if (restored) this.#lazyConnect();
      });
    }
  }

  /**
   * The connection's state: `{ state: 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed' | 'failed',
   * transport?, transportReason?, attempt?, retryIn? (ms), session?, error? }`. Immutable; keeps its identity
   * until the state changes (what `useSyncExternalStore` and other bindings need).
   */
  declare getSnapshot: () => ConnectionSnapshot;
  /**
   * Call `listener` after every connection state change (read it with `getSnapshot()`).
   * @returns a function that removes the listener.
   */
  declare subscribe: (listener: () => void) => () => void;

  static {
    emitOn = (client, event, ...args) => void client.emit(event, ...args);
    // Callable detached (React's useSyncExternalStore passes them so), bound on first read.
    bindOnRead(this.prototype, 'getSnapshot', function (this: Client) {
      return this.#host.connection_.read_();
    });
    bindOnRead(this.prototype, 'subscribe', function (this: Client, listener: () => void) {
      return this.#host.connection_.observe_(listener);
    });
    reportsTo(this.prototype, (client: Client) => (#report in client ? client.#report : undefined)); // (a Proxy of a client has none)
  }

  /** A throw in an `error` listener goes to the host (reporting it on `error` again would recurse); any other to `error`. */
  protected override onListenerError(error: TidewireError, event: keyof ClientEvents): void {
    if (event === 'error') reportUncaught(error);
    else this.#report(error);
  }

  /**
   * Open the connection now (from `idle`, `closed` or `failed`), or retry at once when
   * `reconnecting`. Not needed with `lazy` (the default): the first channel or publish connects.
   */
  connect(): void {
    const host = this.#host;
    // Reopened: requests made from now on wait for the new line instead of rejecting with why the old one ended.
    host.requests_.ended_ = undefined;
    host.connection_.connect_();
  }

  /** Close for good: pending publishes reject with `closed`, every timer stops. `connect()` reopens. */
  close(): void {
    this.#host.connection_.close_();
  }

  /** Check the line now (ping with a short deadline) instead of waiting for the heartbeat. */
  checkConnection(): void {
    this.#host.connection_.wake_();
  }

  /** Drop the current transport as if the network failed; the client reconnects and recovers. */
  disconnectTransport(reason?: string): void {
    this.#host.connection_.drop_(reason);
  }

  /**
   * What went over the line: `{ rtt (ms, last line check; undefined before one), reconnects, reconnectReasons
   * (by error code), recovered, gaps, queued (outbox depth), framesIn, bytesIn, framesOut, bytesOut, transport,
   * transportReason }` (see {@link ClientMetrics}). Subscribable like the connection state; a binding can show it.
   * @example
   * ```ts
   * client.metrics.subscribe(() => render(client.metrics.getSnapshot())); // told once per burst of changes
   * setInterval(() => client.checkConnection(), 10_000); // refresh `rtt` on your own schedule
   * ```
   */
  get metrics(): Pick<MetricsStore, 'subscribe' | 'getSnapshot'> {
    return this.#host.connection_.metrics_;
  }

  /** The metrics now: same as `client.metrics.getSnapshot()` (same object until a figure changes). */
  getMetrics(): ClientMetrics {
    return this.#host.connection_.metrics_.read_();
  }

  /** Unacknowledged publishes (queued or in flight). */
  get pendingPublishes(): number {
    return this.#host.queued_();
  }

  /**
   * The publishes not yet acknowledged, oldest first — including those restored from
   * `outboxStorage` after a reload (what a chat shows as "sending…"). The `pending` event tells
   * when it changes.
   * @returns `[{ id, channel, data, queuedAt }]` (`queuedAt`: ms since the epoch).
   */
  listPendingPublishes(): PendingPublish[] {
    return this.#host.pending_.list_();
  }

  /**
   * Give up a pending publish: it rejects with `aborted` (`context.cancelled: true`) and leaves
   * `outboxStorage`. One still queued is never sent; one already on the wire may still be stored
   * by the server (its ack is then ignored).
   * @returns false when no publish with this id is pending.
   */
  cancelPublish(id: string): boolean {
    return this.#cancel(id, new TidewireError('aborted', 'the publish was cancelled', { context: { id, cancelled: true } }));
  }

  /**
   * Acquire a handle on a channel. Handles on one name share one subscription; the first one
   * subscribes (and, with `lazy`, the default, opens the connection), the last one released
   * (`channel.unsubscribe()`) unsubscribes after `releaseDelay` (default one tick).
   *
   * @param name - the channel name; the server decides what is valid (default
   *   `/^[A-Za-z0-9_:.\-@/=+*]{1,200}$/`) and answers `unknown_channel` otherwise.
   * @param options - `schema`: a Standard Schema validator (zod, valibot…) that types and checks data
   *   both ways; `since`: `{ epoch, offset }` to start after a known position (applies to the
   *   first acquisition only).
   * @returns a {@link Channel} handle: `on('message' | 'gap' | 'error')`, `publish`, `getSnapshot`.
   * @example
   * ```ts
   * const room = client.channel<{ text: string }>('room:1');
   * room.on('message', (m) => render(m.data.text));          // once each, in offset order
   * room.on('gap', () => reloadFromServer());                 // history could not cover a disconnection
   * // later: room.unsubscribe();
   * ```
   */
  channel<S extends StandardSchemaV1>(name: string, options: { schema: S; since?: Position; recent?: number }): Channel<InferOutput<S>>;
  channel<T = unknown>(name: string, options?: ChannelOptions<T>): Channel<T>;
  channel<T>(name: string, options: ChannelOptions<T> = {}): Channel<T> {
    const host = this.#host;
    let shared = host.channels_.get(name);
    if (!shared) {
      shared = new SharedChannel(name, host, options.since, options.recent);
      host.channels_.set(name, shared);
      shared.resubscribe_();
    } else if (shared.read_().state === 'failed') {
      shared.retry_(); // a new acquisition is the app asking again: a failed channel tries once more
    }
    const handle = new Channel<T>(shared, host, options.schema, this.#report);
    shared.sinks_ = shared.sinks_.concat([handle]); // an exact-size copy: `push` (or a spread) makes 17 slots
    this.#lazyConnect();
    return handle;
  }

  /**
   * Publish without holding a subscription.
   * @param options `id`: an idempotency key (1–64 characters) — publishing again with the id of a
   *   publish that timed out stores the message once; default a random 128-bit id.
   * @returns the stored position, once the server acknowledged it.
   * @throws (rejects) `TidewireError` — `bad_request` for an invalid id, `too_large`, `queue_full`,
   *   `timeout`, `closed`, `not_connected`, or the server's refusal.
   */
  publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const id = options.id ?? randomId();
    const result = this.request({ type: 'publish', id, channel, data }, {}, validatePublishId(options.id));
    rememberOwnId(this.#host.ownIds_, channel, id);
    return result;
  }

  /**
   * The one path of every acknowledged request — `publish`, and `rpc()` from `@tidewire/core/rpc` —
   * so both follow the same offline, queue and timeout rules (docs/client.md). Apps call `publish`
   * or `rpc()`; this is public only so those entries can share it.
   * @param frame the request, with its id
   * @param rules `timeout`: ms from sending to the answer (default `publishTimeout`); `atMostOnce`:
   *   never sent twice (rejects `interrupted` if the line drops after sending)
   * @param invalid an error found while building the frame, reported after the state checks
   * @returns the ack (publish) or the result's data (rpc)
   */
  request<T = PublishResult>(frame: PublishFrame | RpcFrame, rules?: RequestRules, invalid?: TidewireError): Promise<T> {
    const early = this.#early;
    if (early?.has(frame.id)) {
      const cancelled = early.get(frame.id);
      early.delete(frame.id);
      if (cancelled) return Promise.reject(cancelled);
    }
    if (this.#restoring) return this.#later(frame.id, this.#restoring.then(() => this.request<T>(frame, rules, invalid)));
    const host = this.#host;
    const codec = host.options_.codec;
    if (codec) {
      // App code: a throw or a bad answer rejects this request (never throws at the caller).
      const data = encodePayload(codec, frame.data, { id: frame.id });
      // A Blob is read first (asynchronously): later publishes may overtake it; await it to keep order.
      if (data instanceof Promise) return this.#later(frame.id, data.then((encoded) => this.request<T>({ ...frame, data: encoded }, rules, invalid)));
      frame = { ...frame, data };
    }
    const state = host.connection_.state_;
    const { type, id } = frame;
    if (state === 'closed' || state === 'failed') {
      return Promise.reject(new ConnectionError('closed', `cannot ${type}: the client is ${state}`));
    }
    if (invalid) return Promise.reject(invalid);
    const text = encodeRequest(frame, host.maxPayload_);
    if (typeof text !== 'string') return Promise.reject(text);
    // Before the offline rule: a lazy client refused `not_connected` must still start its line, or it never would.
    this.#lazyConnect();
    if (state !== 'connected' && host.options_.offline === 'fail') {
      return Promise.reject(new TidewireError('not_connected', `cannot ${type} while offline (offline: "fail")`));
    }
    // An ack names the id only, and the server stores per channel: the same id pending for another
    // channel (or an rpc) could be neither told apart nor joined without losing one of the two.
    const target = type === 'publish' ? `publish:${frame.channel}` : `rpc:${frame.method}`;
    const other = host.outbox_.targetOf_(id);
    if (other !== undefined && other !== target) {
      return Promise.reject(new TidewireError('bad_request', `${type} id "${id}" is still pending for another request (${other}): use another id`, { context: { id } }));
    }
    const result = host.outbox_.add_<T>(id, text, rules, target);
    if (type === 'publish') host.pending_.track_({ id, channel: frame.channel, data: frame.data, queuedAt: queuedNow(), frame: text }, result);
    return result;
  }

  /**
   * `lazy`: the first channel or publish starts the line — from `idle` only. A reconnecting client
   * keeps its backoff (and the server's `retryAfter`): each publish made meanwhile must not retry at
   * once; a closed or failed one waits for the app's `connect()` (the state machine, docs/client.md).
   */
  #lazyConnect(): void {
    if (this.#host.options_.lazy !== false && this.#host.connection_.state_ === 'idle') this.connect();
  }

  /** Give up a pending request (queued: never sent; sent: its answer is ignored), rejecting it with `error`. */
  cancelRequest(id: string, error: TidewireError): void {
    this.#cancel(id, error);
  }

  /**
   * A request that waits for the stored outbox or a Blob's bytes before it reaches the outbox
   * (`request` goes on in `next`): a cancel meanwhile is kept under its id, and refuses it there —
   * an rpc aborted before it was sent must never be sent.
   */
  #later<T>(id: string, next: Promise<T>): Promise<T> {
    (this.#early ??= new Map()).set(id, undefined);
    next.catch(() => this.#early?.delete(id)); // a Blob that cannot be read never goes on: nothing to keep
    return next;
  }

  #cancel(id: string, error: TidewireError): boolean {
    if (this.#host.outbox_.refuse(id, error)) return true;
    if (!this.#early?.has(id)) return false;
    this.#early.set(id, error);
    return true;
  }

}

/**
 * Create a Tidewire client. Nothing opens yet: the connection starts on first channel use or
 * publish (or on `connect()` with `lazy: false`), so creating a client during a server render or at
 * module load costs no socket and no timer.
 *
 * @param options - `url` (required): `wss://…`, `https://…`, or relative to the page (`'/tidewire'`).
 *   Timing options are in ms: `connectTimeout` (default 5000), `publishTimeout` (10000),
 *   `reorderWindow` (1000); `maxQueue` (1000 publishes); `transports` (default `[websocket()]`);
 *   `token`/`getToken` for authentication; `WebSocket`/`fetch` to inject implementations (Node 20: `ws`).
 *   See {@link ClientOptions}.
 * @returns the {@link Client}, in state `idle`.
 * @throws {TidewireError} `invalid_options` when `url` is relative and there is no page to resolve it
 *   against (Node, Deno, Bun), or is not a URL. `TypeError` when `transports` is empty.
 * @example
 * ```ts
 * import { createClient } from '@tidewire/core';
 *
 * const client = createClient({ url: 'wss://example.com/tidewire', getToken: async () => fetchToken() });
 * const room = client.channel<{ text: string }>('room:1'); // connects now
 * room.on('message', (m) => console.log(m.offset, m.data.text));
 * await room.publish({ text: 'hi' });
 * ```
 */
export function createClient(options: ClientOptions): Client {
  return new Client(options);
}

let lastQueuedAt = 0;
/**
 * `Date.now()` made strictly increasing (by a microsecond when the clock has not moved): a stored
 * outbox is restored sorted by `queuedAt`, and a burst of publishes within one millisecond must
 * come back in publish order whatever order the storage lists them in (IndexedDB: by random id).
 */
function queuedNow(): number {
  return (lastQueuedAt = Math.max(Date.now(), lastQueuedAt + 0.001));
}

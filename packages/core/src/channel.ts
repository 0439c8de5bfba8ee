import { Emitter } from './emitter';
import type { ReportError } from './isolate';
import { callSafely, reportUncaught } from './isolate';
import type { ChannelMessage, ChannelSnapshot, GapInfo } from './channel-state';
import type { TidewireError } from './errors';
import type { MessageFrame, Position } from './protocol/frames';
import type { PublishResult } from './outbox';
import type { PublishOptions } from './publish-options';
import type { StandardResult, StandardSchemaV1 } from './schema';
import { invalidData, refuseOutbound, validateIsolated } from './schema';
import type { ChannelSink, SharedChannel } from './shared-channel';
import { ChannelPresence, PresenceStore } from './presence';
import { bindOnRead } from './store';
import { fetchHistory } from './history';
import type { HistoryOptions, HistoryPage } from './history';

/**
 * A channel's events: `message` — each message once, in offset order; `gap` — a disconnection
 * history could not cover (reload from your source of truth); `error` — refusals and validation failures.
 */
export interface ChannelEvents<T> {
  message: (message: ChannelMessage<T>) => void;
  /** History could not cover what was missed: reload state from your source of truth. */
  gap: (info: GapInfo) => void;
  error: (error: TidewireError) => void;
}

/** What `client.channel(name, options)` takes: a `schema` and/or a starting position `since`. */
export interface ChannelOptions<T> {
  /** Validates inbound and outbound data; also gives the channel its type. */
  schema?: StandardSchemaV1<unknown, T>;
  /**
   * Deliver everything after this position (the server replays it from history), e.g. the
   * position a server-rendered snapshot was taken at; a `gap` fires if history no longer has it.
   * Applies when the channel is first acquired; later handles share the running subscription.
   */
  since?: Position;
  /**
   * Start with (up to) the last `recent` stored messages, delivered as `message` events before
   * the live ones — no gap and no duplicate between the two (server capability `history`; without
   * it the channel reports `unsupported` on `error` and starts live). Ignored with `since`, and
   * when the channel is already held; never applied again after a reconnect (that resumes from the position).
   */
  recent?: number;
}

/** What a handle needs from its client: where its publishes go, and where it is released. */
export interface ChannelOwner {
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<PublishResult>;
  release_(shared: SharedChannel, handle: ChannelSink): void;
}

/**
 * The app's handle on a channel. Handles on the same name share one server
 * subscription; each handle owns its listeners, and `unsubscribe()` drops
 * them and releases this handle's reference (the last release unsubscribes).
 *
 * Every call into app code from here — `message`/`gap`/`error` listeners, `subscribe`
 * listeners, the schema's `validate` — is isolated: a throw is reported on the client's
 * `error` event as `listener_error` and delivery carries on (other handles still get the
 * message, the position advances once).
 */
export class Channel<T = unknown> extends Emitter<ChannelEvents<T>> implements ChannelSink {
  readonly #shared: SharedChannel;
  readonly #owner: ChannelOwner;
  readonly #schema: StandardSchemaV1<unknown, T> | undefined;
  readonly #report: ReportError;
  #released = false;
  #presence: ChannelPresence | undefined;

  /** @param report where exceptions thrown by this handle's app code go (the client's `error` event). */
  constructor(
    shared: SharedChannel,
    owner: ChannelOwner,
    schema?: StandardSchemaV1<unknown, T>,
    report: ReportError = reportUncaught,
  ) {
    super();
    this.#shared = shared;
    this.#owner = owner;
    this.#schema = schema;
    this.#report = report;
  }

  /** The channel's name, as given to `client.channel(name)`. */
  get name(): string {
    return this.#shared.name;
  }

  /** The last position delivered to the app; pass it as `since` to resume elsewhere. */
  get position(): Position | undefined {
    return this.#shared.position;
  }

  /**
   * The channel's state: `{ state: 'subscribing' | 'subscribed' | 'failed' | 'unsubscribed', position?,
   * recovered? (subscribed), error? (failed) }`. Immutable; keeps its identity until something changes.
   */
  declare getSnapshot: () => ChannelSnapshot;
  /** Observe the channel's state (`getSnapshot()`); returns the unsubscribe function. The listener runs isolated. */
  declare subscribe: (listener: () => void) => () => void;

  static {
    // Callable detached (React's useSyncExternalStore passes them so), bound on first read.
    bindOnRead(this.prototype, 'getSnapshot', function (this: Channel) {
      return this.#shared.read_();
    });
    bindOnRead(this.prototype, 'subscribe', function (this: Channel, listener: () => void) {
      return this.#shared.observe_(() => callSafely(this.#report, 'subscribe', { channel: this.name }, listener));
    });
  }

  /** Listener errors name the channel (made only when one throws). */
  protected override errorContext(): Readonly<Record<string, unknown>> {
    return { channel: this.name };
  }

  protected override onListenerError(error: TidewireError): void {
    this.#report(error);
  }

  /**
   * Publish `data` to this channel: stored by the server, then delivered to every subscriber
   * (this one included) once, in order. While disconnected it waits in the outbox (`maxQueue`,
   * default 1000) and is re-sent with the same id after a reconnect, so it is stored at most once.
   *
   * @param data - any JSON value; validated first by the channel's `schema`, if it has one.
   *   Encoded, the frame must fit the server's `maxPayload` (default 64 KiB).
   * @param options - `id`: an idempotency key (1–64 characters); default a random 128-bit id.
   * @returns the stored position `{ id, epoch, offset }`, once the server acknowledged it
   *   (within `publishTimeout`, default 10 000 ms, counted from sending; time queued unsent counts
   *   towards `queueTimeout`, default 5 min).
   * @throws (rejects) {TidewireError} — `validation_failed` (`ValidationError`, nothing sent),
   *   `listener_error` (the schema threw), `too_large`, `queue_full`, `timeout` (`TimeoutError`),
   *   `closed` (`ConnectionError`), `not_connected` (`offline: 'fail'`), or the server's refusal
   *   (`RequestError`: `forbidden`, `rate_limited`, `unknown_channel`, …).
   * @example
   * ```ts
   * const room = client.channel<{ text: string }>('room:1');
   * try {
   *   const { offset } = await room.publish({ text: 'hi' });
   * } catch (error) {
   *   // To retry, publish again with the same `{ id }`: the server stores it once.
   *   if (isTidewireError(error) && error.code === 'timeout') showRetry();
   * }
   * ```
   */
  publish(data: T, options?: PublishOptions): Promise<PublishResult> {
    const refused = refuseOutbound(this.#schema, data, this.name);
    return refused ? Promise.reject(refused) : this.#owner.publish(this.name, data, options);
  }

  /**
   * Who is in this channel (server capability `presence`): `getSnapshot()` → `{ state, members }`,
   * `subscribe(listener)`, `on('join' | 'leave', listener)`, `enter(info?)`, `leave()`. Created on
   * first access; every handle of this client on the channel shares one membership and one member list.
   * @example
   * ```ts
   * const room = client.channel('room:1');
   * await room.presence.enter({ name: 'Alice' });
   * room.presence.subscribe(() => render(room.presence.getSnapshot().members));
   * ```
   */
  get presence(): ChannelPresence {
    const shared = this.#shared;
    shared.presence_ ??= new PresenceStore(shared.name, shared.requests_, this.#report);
    return (this.#presence ??= new ChannelPresence(shared.presence_, this.#report));
  }

  /**
   * Read stored messages of this channel (server capability `history`), without waiting for the
   * subscription: one page of at most `limit` (default 50) messages with `after < offset < before`,
   * newest first (`direction: 'backward'`, the default) or oldest first (`'forward'`); `page.next()`
   * reads the next one. Authorized like a subscribe. Data is passed as stored (the schema is not applied).
   * @param options - `{ limit?, before?, after?, direction? }` (offsets of the current epoch)
   * @returns the page: `{ messages, epoch, head, hasMore, next() }`
   * @throws (rejects) `unsupported`, `closed`, `timeout` (no answer 10 s after sending), or the server's
   *   refusal (`forbidden`, `unknown_channel`, `rate_limited`)
   * @example
   * ```ts
   * const page = await room.history({ limit: 20 }); // the 20 newest, newest first
   * const older = await page.next();
   * ```
   */
  history(options?: HistoryOptions): Promise<HistoryPage<T>> {
    return fetchHistory<T>(this.#shared.requests_, this.name, options);
  }

  /** Subscribe again from the last position: how a `failed` channel (e.g. `forbidden` until a permission changes) recovers. */
  resubscribe(): void {
    this.#shared.retry_();
  }

  /** Drop this handle's listeners and its reference to the subscription. Idempotent. */
  unsubscribe(): void {
    if (this.#released) return;
    this.#released = true;
    this.#presence?.release();
    this.removeAllListeners();
    this.#owner.release_(this.#shared, this);
  }

  deliver(frame: MessageFrame): void {
    if (this.#released) return; // released during this delivery (see SharedChannel.sinks_)
    if (!this.#schema) {
      this.emit('message', frame as ChannelMessage<T>);
      return;
    }
    const result = this.#validate(frame.data);
    if (result instanceof Error) {
      // A validator that throws (or answers garbage) is app code failing, not data failing: the
      // message is consumed, reported on the client's `error` and this channel's.
      this.#report(result);
      this.error(result);
      return;
    }
    if (result.issues) {
      // The message is consumed (its offset advances) but reported, never silently dropped.
      this.error(invalidData(result.issues, 'inbound', this.name, frame));
      return;
    }
    this.emit('message', { ...frame, data: result.value as T });
  }

  gap(info: GapInfo): void {
    if (!this.#released) this.emit('gap', info);
  }

  error(error: TidewireError): void {
    if (!this.#released) this.emit('error', error);
  }

  /** The schema's verdict, or the `listener_error` when the validator itself threw (or is async, or answered garbage). */
  #validate(value: unknown): StandardResult<T> | TidewireError {
    return validateIsolated(this.#schema!, value, this.name);
  }

}

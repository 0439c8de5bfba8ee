import type { ChannelEvents } from './channel';
import type { ChannelMessage, ChannelSnapshot, GapInfo } from './channel-state';
import { Emitter } from './emitter';
import type { TidewireError } from './errors';
import { ValidationError } from './errors';
import type { HistoryOptions, HistoryPage } from './history';
import type { ReportError } from './isolate';
import type { PublishResult } from './outbox';
import type { Position } from './protocol/frames';
import type { PublishOptions } from './publish-options';
import type { StandardResult, StandardSchemaV1 } from './schema';
import { validateIsolated } from './schema';
import type { WireChannelState } from './shared-messages';
import { tabState } from './shared-messages';
import type { PresenceLine } from './shared-tab-presence';
import { SharedPresence, TabPresence } from './shared-tab-presence';
import { Store } from './store';

/** What a tab's channel handles ask of their shared client. */
export interface TabChannelHost {
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<PublishResult>;
  history<T>(channel: string, options?: HistoryOptions): Promise<HistoryPage<T>>;
  presenceLine(channel: string): PresenceLine;
  release(handle: SharedChannel<never>): void;
  readonly report: ReportError;
}

/**
 * One channel in one tab, shared by the tab's handles on it: the last position the tab delivered
 * (replays after a takeover are dropped by it), the channel's state as the connection reports it,
 * and — while a `recent` page is on its way — the live messages that arrived before it.
 */
export class TabChannel extends Store<ChannelSnapshot> {
  readonly handles = new Set<SharedChannel<never>>();
  position: Position | undefined;
  /** Live messages (and gaps) held back until the `recent` page arrives (then delivered after it, in order). */
  held: (ChannelMessage | GapInfo)[] | undefined;
  /** How many stored messages the tab asked for (`recent`). */
  asked: number | undefined;
  presence: TabPresence | undefined;

  constructor(
    readonly name: string,
    report: ReportError,
  ) {
    super({ state: 'subscribing' }, report);
  }

  /** Deliver `m` once to every handle, unless the tab already has it. */
  deliver(m: ChannelMessage): void {
    if (this.held) return void this.held.push(m);
    const at = this.position;
    if (at && at.epoch === m.epoch && m.offset <= at.offset) return; // a replay we have
    this.position = { epoch: m.epoch, offset: m.offset };
    for (const handle of [...this.handles]) handle.deliver(m);
  }

  /**
   * The `recent` page (oldest first): delivered, then what was held back. `at` (a catch-up after a
   * known position): where the connection's subscription stood when the page was sent — a hole left
   * before a held message or before `at` (the absence outlasted the page, or crossed an epoch
   * change) is a `gap`, as a private client's resubscribe would say, never a silent skip.
   */
  recent(messages: readonly ChannelMessage[], at?: Position): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.asked = undefined;
    for (const m of messages) this.deliver(m);
    for (const m of held) {
      if ('reason' in m) this.gap(m);
      else {
        if (at) this.#gapUntil({ epoch: m.epoch, offset: m.offset - 1 });
        this.deliver(m);
      }
    }
    if (at) this.#gapUntil(at);
  }

  /** A `gap` when `to` is past this tab's position (a later offset, or another epoch). */
  #gapUntil(to: Position): void {
    const from = this.position;
    if (!from || (from.epoch === to.epoch && to.offset <= from.offset)) return;
    this.gap({ channel: this.name, reason: from.epoch === to.epoch ? 'history_exhausted' : 'epoch_changed', from, to });
  }

  gap(gap: GapInfo): void {
    if (this.held) return void this.held.push(gap); // in its place among the held messages
    this.position = gap.to;
    for (const handle of [...this.handles]) handle.gap(gap);
  }

  /** The connection's channel state; the position shown is this tab's. */
  state(wire: WireChannelState): void {
    const snapshot = tabState<ChannelSnapshot>(wire);
    const next = { ...snapshot, position: this.position ?? snapshot.position } as ChannelSnapshot;
    const current = this.getSnapshot();
    if (current.state === next.state && current.error?.message === next.error?.message && current.position === next.position) return;
    this.setSnapshot(next);
    if (next.error) for (const handle of [...this.handles]) handle.error(next.error);
  }
}

/**
 * A tab's handle on a channel of the shared connection — the same surface as a private client's
 * {@link Channel}: `on('message' | 'gap' | 'error')`, `publish`, `getSnapshot`/`subscribe`,
 * `presence`, `history`, `unsubscribe`. Handles of all tabs share one subscription of the connection.
 */
export class SharedChannel<T = unknown> extends Emitter<ChannelEvents<T>> {
  readonly name: string;
  readonly #host: TabChannelHost;
  readonly #channel: TabChannel;
  readonly #schema: StandardSchemaV1<unknown, T> | undefined;
  #presence: SharedPresence | undefined;
  #released = false;

  /** @internal created by `sharedClient.channel(name)` */
  constructor(name: string, host: TabChannelHost, channel: TabChannel, schema?: StandardSchemaV1<unknown, T>) {
    super({ channel: name });
    this.name = name;
    this.#host = host;
    this.#channel = channel;
    this.#schema = schema;
  }

  /** The last position this tab delivered. */
  get position(): Position | undefined {
    return this.#channel.position;
  }

  /** The channel's state: `{ state: 'subscribing' | 'subscribed' | 'failed' | 'unsubscribed', position?, error? }`. */
  getSnapshot = (): ChannelSnapshot => this.#channel.getSnapshot();
  /** Observe the channel's state. @returns the function that removes the listener. */
  subscribe = (listener: () => void): (() => void) => this.#channel.subscribe(listener);

  /**
   * Publish on this channel through the shared connection (validated by the handle's `schema` first).
   * @param options `id`: an idempotency key (default a random one)
   * @returns the stored position once the server acknowledged it
   * @throws (rejects) `validation_failed`, or as `sharedClient.publish`
   */
  publish(data: T, options?: PublishOptions): Promise<PublishResult> {
    if (this.#schema) {
      const result = this.#validate(data);
      if (result instanceof Error) return Promise.reject(result);
      if (result.issues) return Promise.reject(this.#invalid(result.issues, 'outbound'));
    }
    return this.#host.publish(this.name, data, options);
  }

  /** Who is in this channel, as the shared connection sees it (see {@link SharedPresence}). */
  get presence(): SharedPresence {
    this.#channel.presence ??= new TabPresence(this.#host.presenceLine(this.name), this.#host.report);
    return (this.#presence ??= new SharedPresence(this.#channel.presence));
  }

  /**
   * Read stored messages through the shared connection, as a private channel's `history`.
   * @param options `{ limit?, before?, after?, direction? }`
   * @returns the page `{ messages, epoch, head, hasMore, next() }`
   * @throws (rejects) `unsupported`, `closed`, `timeout`, or the server's refusal
   */
  history(options?: HistoryOptions): Promise<HistoryPage<T>> {
    return this.#host.history<T>(this.name, options);
  }

  /** Kept for parity with a private channel: the shared connection retries on its own. */
  resubscribe(): void {}

  /** Release this handle; the tab's subscription ends with its last handle, the connection's with the last tab's. Idempotent. */
  unsubscribe(): void {
    if (this.#released) return;
    this.#released = true;
    this.#presence?.release();
    this.removeAllListeners();
    this.#host.release(this as unknown as SharedChannel<never>);
  }

  /** @internal */
  deliver(message: ChannelMessage): void {
    if (!this.#schema) return void this.emit('message', message as ChannelMessage<T>);
    const result = this.#validate(message.data);
    if (result instanceof Error) {
      // The validator failed (threw, async, garbage): consumed, reported on the client's `error` and this channel's.
      this.#host.report(result);
      return this.error(result);
    }
    if (result.issues) return this.error(this.#invalid(result.issues, 'inbound'));
    this.emit('message', { ...message, data: result.value });
  }

  /** @internal */
  gap(gap: GapInfo): void {
    this.emit('gap', gap);
  }

  /** @internal */
  error(error: TidewireError): void {
    this.emit('error', error);
  }

  protected override onListenerError(error: TidewireError): void {
    this.#host.report(error);
  }

  #validate(value: unknown): StandardResult<T> | TidewireError {
    return validateIsolated(this.#schema!, value, this.name);
  }

  #invalid(issues: ReadonlyArray<{ message: string }>, direction: string): ValidationError {
    return new ValidationError('validation_failed', `${direction} data on "${this.name}" failed its schema: ${issues.map((i) => i.message).join('; ')}`, {
      context: { channel: this.name, issues },
    });
  }
}

import type { ChannelMessage, ChannelSnapshot, GapInfo } from './channel-state';
import type { TidewireChannel, TidewireClient } from './client-surface';
import type { TidewireError } from './errors';
import type { PublishResult } from './outbox';
import { ConnectionError } from './errors';
import { refuseOutbound, type StandardSchemaV1 } from './schema';
import { reporterFor } from './isolate';
import { Store } from './store';

/** What a ChannelView (the bindings' model of one `useChannel`) takes: the channel (or `null`), `history` (default 50), `enabled`, `onMessage`, `schema`. */
export interface ChannelViewOptions<T> {
  /** `null` holds no subscription (e.g. while a room is not chosen yet). */
  channel: string | null;
  /** How many recent messages the snapshot keeps. Default 50. */
  history?: number;
  /** `false` holds no subscription. Default true. */
  enabled?: boolean;
  onMessage?: (message: ChannelMessage<T>) => void;
  /** Validates (and types) the channel's data, as in `client.channel(name, { schema })`; taken when the channel is acquired (a new one applies from the next channel switch). */
  schema?: StandardSchemaV1<unknown, T>;
  /** Start with (up to) this many stored messages, then live, as in `client.channel(name, { recent })`. */
  recent?: number;
}

/** What a ChannelView renders: `channel`, `status`, the last `history` `messages` (oldest first), `last`, and `gap`/`error` when present. */
export interface ChannelViewSnapshot<T> {
  /** The channel this snapshot describes (`null` while none is held), so a render can tell a stale one. */
  readonly channel: string | null;
  /** `idle` while disabled or not observed; otherwise the channel's state. */
  readonly status: 'idle' | ChannelSnapshot['state'];
  /** The most recent messages, oldest first, at most `history` of them. */
  readonly messages: readonly ChannelMessage<T>[];
  readonly last: ChannelMessage<T> | undefined;
  /** The latest gap (history could not cover a disconnection), until the channel changes. */
  readonly gap: GapInfo | undefined;
  readonly error: TidewireError | undefined;
}

const IDLE: ChannelViewSnapshot<never> = Object.freeze({
  channel: null,
  status: 'idle',
  messages: Object.freeze([]) as readonly never[],
  last: undefined,
  gap: undefined,
  error: undefined,
});

/**
 * A channel as a framework binding wants it: one immutable snapshot (recent messages,
 * status, gap) behind `subscribe/getSnapshot`. It acquires the channel only while it has
 * listeners, so SSR (no listeners) opens nothing and StrictMode's subscribe/unsubscribe/
 * subscribe reuses one subscription thanks to the core's one-tick release.
 */
export class ChannelView<T = unknown> extends Store<ChannelViewSnapshot<T>> {
  #options: ChannelViewOptions<T>;
  #handle: TidewireChannel<T> | undefined;
  #detach: (() => void) | undefined;

  constructor(
    private readonly client: TidewireClient,
    options: ChannelViewOptions<T>,
  ) {
    super(IDLE, reporterFor(client)); // a throwing binding listener is reported on the client's `error` event
    this.#options = options;
  }

  /** The snapshot to render on the server and during hydration. */
  getServerSnapshot = (): ChannelViewSnapshot<T> => IDLE;

  protected override onFirstListener(): void {
    this.#attach();
  }

  protected override onLastListenerGone(): void {
    this.#release();
  }

  /** Apply new options; switches subscription only when the channel or `enabled` changed. */
  setOptions(options: ChannelViewOptions<T>): void {
    const previous = this.#options;
    this.#options = options;
    // Not the schema: like `recent` it is taken when the channel is acquired. An inline schema (a new
    // object every render) switching here reset the snapshot, which rendered again: a loop.
    const switched = previous.channel !== options.channel || (previous.enabled ?? true) !== (options.enabled ?? true);
    if (switched && this.listenerCount > 0) {
      this.#release();
      this.#attach();
    } else if ((previous.history ?? 50) !== (options.history ?? 50)) {
      const snap = this.getSnapshot();
      this.setSnapshot({ ...snap, messages: keepLast(snap.messages, options.history ?? 50) });
    }
  }

  publish(data: T): Promise<PublishResult> {
    if (!this.#handle) {
      const { channel } = this.#options;
      if (channel === null) return Promise.reject(new ConnectionError('closed', 'no channel selected'));
      // Held or not (`enabled: false`), a publish passes the channel's schema.
      const refused = refuseOutbound(this.#options.schema, data, channel);
      return refused ? Promise.reject(refused) : this.client.publish(channel, data);
    }
    return this.#handle.publish(data);
  }

  #attach(): void {
    const { channel, enabled = true } = this.#options;
    if (channel === null || !enabled) return;
    const handle = (this.#handle = this.client.channel<T>(channel, { schema: this.#options.schema, recent: this.#options.recent }));
    const sync = () => {
      const state = handle.getSnapshot();
      const snap = this.getSnapshot();
      if (snap.status !== state.state || snap.error !== state.error) {
        this.setSnapshot({ ...snap, status: state.state, error: state.error });
      }
    };
    const offs = [
      handle.subscribe(sync),
      handle.on('message', (message) => {
        const snap = this.getSnapshot();
        this.setSnapshot({ ...snap, messages: keepLast([...snap.messages, message], this.#options.history ?? 50), last: message });
        this.#options.onMessage?.(message);
      }),
      handle.on('gap', (gap) => this.setSnapshot({ ...this.getSnapshot(), gap })),
      handle.on('error', (error) => this.setSnapshot({ ...this.getSnapshot(), error })),
    ];
    this.#detach = () => offs.forEach((off) => off());
    this.setSnapshot({ ...IDLE, channel, status: handle.getSnapshot().state });
  }

  #release(): void {
    this.#detach?.();
    this.#detach = undefined;
    this.#handle?.unsubscribe();
    this.#handle = undefined;
    this.setSnapshot(IDLE);
  }
}

/** The last `n` items of `list` (none for `n` ≤ 0: `slice(-0)` would copy them all). */
function keepLast<M>(list: readonly M[], n: number): M[] {
  return n > 0 ? list.slice(-n) : [];
}

import type { TidewireError } from './errors';
import type { Position } from './protocol/frames';

/** What happened to a channel's stream while we were away, when history could not bridge it. */
export interface GapInfo {
  readonly channel: string;
  /** `epoch_changed`: the server lost the stream (restart, trimmed store); `history_exhausted`: messages expired. */
  readonly reason: 'epoch_changed' | 'history_exhausted';
  /** The last position delivered before the gap. */
  readonly from: Position;
  /** Where the stream continues; messages in between are lost. */
  readonly to: Position;
}

/**
 * One delivered message: its channel, position (`epoch`, `offset`, consecutive from 1 within an epoch),
 * the publisher's `id` and the `data` (validated by the channel's schema, if any).
 */
export interface ChannelMessage<T = unknown> {
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  /** The publisher's message id. */
  readonly id: string;
  readonly data: T;
}

/**
 * A channel's state as the app sees it, immutable: `subscribing` (also while reconnecting), `subscribed`
 * (`recovered: false` after a gap), `failed` (with `error`), `unsubscribed` (released). `position` is
 * where the channel stood at its last state change (subscribed, recovered, failed…): the snapshot
 * changes with the state, not with every message, so a view of it re-renders on state changes only.
 * The position of the last message delivered, live, is `channel.position`.
 */
export type ChannelSnapshot =
  | { readonly state: 'subscribing'; readonly position?: Position; readonly error?: undefined }
  | { readonly state: 'subscribed'; readonly position: Position; readonly recovered: boolean; readonly error?: undefined }
  | { readonly state: 'failed'; readonly position?: Position; readonly error: TidewireError }
  | { readonly state: 'unsubscribed'; readonly position?: Position; readonly error?: undefined };

import type { Position, PresenceMember } from '@tidewire/core/protocol';

/**
 * Channels, offsets, history and dedupe live behind this interface so a
 * multi-node broker (Redis pub/sub + streams) can replace the in-memory one.
 */

/** A stored channel message. Immutable: one object is shared by every subscriber. */
export interface BrokerMessage {
  /** Publisher's id (client nanoid, or server-generated). */
  readonly id: string;
  readonly epoch: string;
  /** Consecutive from 1 within an epoch. */
  readonly offset: number;
  readonly data: unknown;
}

/** What `Broker.publish` resolves with: the stored position, and whether the id was a duplicate. */
export interface PublishResult {
  readonly epoch: string;
  readonly offset: number;
  /** True when this id was already stored within the dedupe window: nothing new was stored or delivered. */
  readonly duplicate: boolean;
}

/** What `Broker.publish` stores: the publish `id` (deduplicated) and the `data`. */
export interface PublishInput {
  readonly id: string;
  readonly data: unknown;
  /**
   * The id was generated for this very publish (a server publish without an
   * id), so it cannot be a retry: the broker may skip the dedupe lookup and
   * need not remember it. Brokers that ignore it stay correct.
   */
  readonly fresh?: boolean;
  /**
   * Who published it (the server's publishes, or one client user's): a broker deduplicates on
   * {@link dedupeKey} — `scope` and `id` together — so one publisher's id never matches another's (a
   * client cannot make the server drop another user's publish, or a server publish, by sending its
   * id first). Absent: the id alone (brokers that ignore it still deduplicate retries, unscoped).
   */
  readonly scope?: string;
  /**
   * Approximate encoded size of the message (UTF-16 code units of the frame it arrived in, or of
   * its JSON), so a broker can bound history by bytes as well as by count. Absent: unknown (0).
   */
  readonly bytes?: number;
}

/** Called by a broker for each live message of a subscribed channel; must be cheap and must not throw. */
export type MessageListener = (message: BrokerMessage) => void;

/** What `Broker.subscribe` resolves with: where the stream continues, whether it `recovered`, the `replay` and `unsubscribe()`. */
export interface BrokerSubscription {
  /** The stream continues after (epoch, offset). */
  readonly epoch: string;
  readonly offset: number;
  /** True when `replay` holds every message after `since` (or nothing was asked for). */
  readonly recovered: boolean;
  /** Messages after `offset`, in order, that the listener will NOT receive. */
  readonly replay: readonly BrokerMessage[];
  /** Stop delivery. Idempotent. */
  unsubscribe(): void;
}

/** A presence change: `join` (also a member entering again with new `info`) or `leave`. */
export interface PresenceEvent {
  readonly action: 'join' | 'leave';
  readonly member: PresenceMember;
}

/** Called by a broker for each presence change of a watched channel; must be cheap and must not throw. */
export type PresenceListener = (event: PresenceEvent) => void;

/** What `Broker.watchPresence` resolves with: every member at the moment the listener started, and `unsubscribe()`. */
export interface PresenceWatch {
  readonly members: readonly PresenceMember[];
  /** Stop the listener. Idempotent. */
  unsubscribe(): void;
}

/** What `Broker.history` reads: at most `limit` messages with `after < offset < before`, newest first (`backward`) or oldest first (`forward`). */
export interface HistoryQuery {
  readonly limit: number;
  /** Exclusive upper bound (default: past the head). */
  readonly before?: number;
  /** Exclusive lower bound (default: 0, i.e. the oldest stored). */
  readonly after?: number;
  readonly direction: 'backward' | 'forward';
}

/** What `Broker.history` resolves with. */
export interface HistoryResult {
  readonly epoch: string;
  /** Newest offset of the channel (0: none yet). */
  readonly head: number;
  /** In the order asked for. */
  readonly messages: readonly BrokerMessage[];
  /** Whether stored messages within the bounds remain past the last one returned. */
  readonly more: boolean;
}

/** A broker's point-in-time counters. */
export interface BrokerStats {
  readonly channels: number;
}

/**
 * Channel storage and fan-out: consecutive offsets per epoch, history for replay, publish-id dedupe, live
 * delivery. `subscribe` must be atomic with respect to `publish` (each message in `replay` or passed to the
 * listener, never both, never neither). The default is `MemoryBroker`; `@tidewire/redis` shares one across
 * processes. Contract: docs/server.md, "Broker".
 */
export interface Broker {
  /**
   * Store and deliver a message: assign the next offset in the channel's epoch,
   * append it to history, deliver it to live listeners. The same (channel, id)
   * within the dedupe window returns the original position with duplicate: true.
   */
  publish(channel: string, message: PublishInput): Promise<PublishResult>;
  /**
   * Optional: true when publishes to one channel that are called one after another, without waiting
   * for each to settle, are stored in the order of the calls. A session then hands a client's
   * publishes to the broker as they arrive and answers each once stored (in order), instead of
   * waiting for each store before reading the next publish. Absent or false: each is awaited.
   */
  readonly publishesInCallOrder?: boolean;
  /**
   * Start listening, atomically with respect to publishes: every message after
   * the returned position is either in `replay` or passed to `listener`, never
   * both, never neither. The listener may be called before the returned promise
   * settles (the caller buffers live messages until it has sent the replay).
   * Every listener gets a channel's messages in offset order, even when a listener
   * publishes into that channel while it is being called (a bot replying in its room).
   * With `since` in the current epoch and history covering everything after
   * it, offset = since.offset and recovered = true; otherwise offset = head and
   * recovered = false (or true when `since` is undefined: nothing was missed).
   */
  subscribe(channel: string, since: Position | undefined, listener: MessageListener): Promise<BrokerSubscription>;
  /**
   * Optional (capability `presence`, with `leavePresence` and `watchPresence`): make `member` a
   * member of `channel`, replacing an earlier entry with the same `clientId`, and tell watchers (`join`).
   */
  enterPresence?(channel: string, member: PresenceMember): Promise<void>;
  /** Optional (capability `presence`): remove the member `clientId`, telling watchers (`leave`); unknown ids are ignored. */
  leavePresence?(channel: string, clientId: string): Promise<void>;
  /**
   * Optional (capability `presence`): the channel's members and a listener for later changes,
   * atomically — every change after the returned `members` reaches the listener, none before.
   */
  watchPresence?(channel: string, listener: PresenceListener): Promise<PresenceWatch>;
  /** Optional (capability `history`): read stored messages of the channel's current epoch. */
  history?(channel: string, query: HistoryQuery): Promise<HistoryResult>;
  stats(): BrokerStats;
  /** Release timers and connections. The server calls it only for the broker it created. */
  close(): Promise<void>;
}

/**
 * The key a broker deduplicates a publish on: its `id` within its publisher's `scope` (see
 * {@link PublishInput.scope}). A retry — the same publisher, the same id — has the same key.
 * @param input the publish as the server hands it to `Broker.publish`
 * @returns `id` alone without a scope; otherwise the scope, a line feed (never in a scope) and the id
 */
export function dedupeKey(input: Pick<PublishInput, 'id' | 'scope'>): string {
  return input.scope === undefined ? input.id : `${input.scope}\n${input.id}`;
}

import type { ChannelEvents, ChannelOptions } from './channel';
import type { ChannelSnapshot } from './channel-state';
import type { ClientEvents } from './client-options';
import type { ConnectionSnapshot } from './connection-state';
import type { HistoryOptions, HistoryPage } from './history';
import type { PublishResult } from './outbox';
import type { PendingPublish } from './outbox-storage';
import type { PresenceEvents, PresenceSnapshot } from './presence';
import type { PublishOptions } from './publish-options';

/**
 * What the bindings (`@tidewire/react`, `@tidewire/vue`, `ChannelView`, `PresenceView`) need of a
 * client — implemented by a private {@link Client} and by a `SharedClient` from
 * `@tidewire/core/shared`, so either can be passed wherever a client is taken.
 */
export interface TidewireClient {
  /** The connection's state (same identity until it changes). */
  getSnapshot(): ConnectionSnapshot;
  /** Call `listener` after every connection state change. @returns a function that removes it. */
  subscribe(listener: () => void): () => void;
  /** A handle on a channel (see `Client.channel`). */
  channel<T = unknown>(name: string, options?: ChannelOptions<T>): TidewireChannel<T>;
  /** Publish without holding a subscription (see `Client.publish`). */
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<PublishResult>;
  /** The publishes not yet acknowledged, oldest first (restored from `outboxStorage` after a reload too). */
  listPendingPublishes(): PendingPublish[];
  /** Give up a pending publish. @returns false when none with this id is pending. */
  cancelPublish(id: string): boolean;
  /** Open the connection now (not needed when `lazy`, the default: the first use connects). */
  connect(): void;
  /** Close: a private client closes its connection; a shared one leaves it to the other tabs. */
  close(): void;
  /** How many publishes wait for their ack. */
  readonly pendingPublishes: number;
  /** Check the line now instead of waiting for the heartbeat. */
  checkConnection(): void;
  /** `state` (every transition), `error` (problems that end nothing), `pending` (the pending publishes changed). @returns a function that removes the listener. */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void;
}

/** A channel handle as the bindings use it: a private client's `Channel` or a shared client's `SharedChannel`. */
export interface TidewireChannel<T = unknown> {
  readonly name: string;
  on<E extends keyof ChannelEvents<T>>(event: E, listener: ChannelEvents<T>[E]): () => void;
  getSnapshot(): ChannelSnapshot;
  subscribe(listener: () => void): () => void;
  publish(data: T, options?: PublishOptions): Promise<PublishResult>;
  readonly presence: TidewirePresence;
  history(options?: HistoryOptions): Promise<HistoryPage<T>>;
  unsubscribe(): void;
}

/** A channel's presence as the bindings use it (`channel.presence` of either client). */
export interface TidewirePresence {
  getSnapshot(): PresenceSnapshot;
  subscribe(listener: () => void): () => void;
  on<E extends keyof PresenceEvents>(event: E, listener: PresenceEvents[E]): () => void;
  enter(info?: unknown): Promise<void>;
  leave(): void;
}

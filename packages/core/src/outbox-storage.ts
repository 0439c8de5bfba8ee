/**
 * Where unacknowledged publishes are kept so they survive a reload or a crash (`outboxStorage`
 * option). The client writes an entry when a publish is accepted, deletes it once the publish is
 * settled for good (acknowledged, refused, timed out, cancelled), and on its next start re-sends
 * what is left — with the same ids, so the server stores each once even if its ack was lost.
 */

/** A publish as the app sees it while it waits for its ack: `client.listPendingPublishes()`. */
export interface PendingPublish {
  /** The publish id (the idempotency key the server deduplicates on). */
  readonly id: string;
  readonly channel: string;
  /** The data as published (after the client's payload codec, if one is set). */
  readonly data: unknown;
  /** When it was accepted, in ms since the epoch (`Date.now()`); kept across reloads. */
  readonly queuedAt: number;
}

/** What an {@link OutboxStorage} holds per publish: the pending publish and its encoded frame. */
export interface StoredPublish extends PendingPublish {
  /** The encoded `publish` frame, sent again as it is. */
  readonly frame: string;
}

/**
 * Pluggable, asynchronous storage for the outbox: `indexedDbOutbox()` from `@tidewire/core/idb`
 * (browsers), `fileOutbox(path)` from `@tidewire/core/file-outbox` (Node), {@link memoryOutbox}
 * (tests, or to list and cancel without persisting), or your own. Keys are publish ids. A
 * rejected operation is reported on the client's `error` event and otherwise ignored. At start,
 * `list()` must answer within min(`connectTimeout`, `queueTimeout`) (else `timeout`: the client
 * starts without it), and each entry it lists that is not a `StoredPublish` whose `frame` is its
 * own `publish` frame is dropped, deleted and reported (`listener_error`, `context.callback:
 * 'outboxStorage'`).
 */
export interface OutboxStorage {
  get(id: string): Promise<StoredPublish | undefined>;
  set(id: string, entry: StoredPublish): Promise<void>;
  delete(id: string): Promise<void>;
  /** Every stored publish, in any order (the client sorts by `queuedAt`). */
  list(): Promise<StoredPublish[]>;
}

/**
 * An in-memory {@link OutboxStorage}: survives a client being closed and a new one created with
 * the same storage (not a reload).
 * @param map where the entries live (default a new Map); pass one to inspect it in tests.
 */
export function memoryOutbox(map: Map<string, StoredPublish> = new Map()): OutboxStorage {
  return {
    get: async (id) => map.get(id),
    set: async (id, entry) => void map.set(id, entry),
    delete: async (id) => void map.delete(id),
    list: async () => [...map.values()],
  };
}

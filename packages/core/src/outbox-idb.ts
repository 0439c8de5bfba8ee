import { createStore, del, get, set, values } from 'idb-keyval';
import type { OutboxStorage, StoredPublish } from './outbox-storage';

/**
 * An {@link OutboxStorage} in IndexedDB (browsers, web workers), through `idb-keyval` (an optional
 * peer dependency: `npm install idb-keyval`). Its own entry, so apps that do not persist their
 * outbox do not bundle it.
 * @param dbName the IndexedDB database (default `'tidewire-outbox'`); give clients of different
 *   servers on one origin different names, or they share (and send) each other's publishes.
 * @returns the storage, to pass as `createClient({ outboxStorage })`.
 * @example
 * ```ts
 * import { indexedDbOutbox } from '@tidewire/core/idb';
 * const client = createClient({ url: '/tidewire', outboxStorage: indexedDbOutbox() });
 * ```
 */
export function indexedDbOutbox(dbName = 'tidewire-outbox'): OutboxStorage {
  const store = createStore(dbName, 'publishes');
  return {
    get: (id) => get<StoredPublish>(id, store),
    set: (id, entry) => set(id, entry, store),
    delete: (id) => del(id, store),
    list: () => values<StoredPublish>(store),
  };
}

export type { OutboxStorage, PendingPublish, StoredPublish } from './outbox-storage';

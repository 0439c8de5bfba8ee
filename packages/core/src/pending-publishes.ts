import type { OutboxStorage, PendingPublish, StoredPublish } from './outbox-storage';

/** What the pending publishes tell their owner (the client). */
export interface PendingEvents {
  /** A storage write failed (reported, never thrown). */
  storageFailed_(cause: unknown): void;
  /** The list changed (`client.on('pending')`). */
  pendingChanged_(): void;
}

/**
 * The publishes not yet settled, as the app lists them, mirrored into the optional
 * `outboxStorage`. Storage writes run one after another (a delete never overtakes its set); a
 * publish that ends because the client was closed or failed stays stored, so the next start
 * sends it — everything else that settles (ack, refusal, timeout, cancel) is deleted.
 */
export class PendingPublishes {
  /** Made on the first publish. */
  #entries: Map<string, StoredPublish> | undefined;
  readonly #storage: OutboxStorage | undefined;
  readonly #events: PendingEvents;
  /** The last storage write queued (none yet: nothing to wait for). */
  #writes: Promise<void> | undefined;
  /** The error the connection ended with: publishes rejected with it are kept in storage. */
  ended_: unknown;

  constructor(storage: OutboxStorage | undefined, events: PendingEvents) {
    this.#storage = storage;
    this.#events = events;
  }

  /** Follow a publish until it settles; `persist: false` for one that came from storage. */
  track_(entry: StoredPublish, result: Promise<unknown>, persist = true): void {
    const entries = (this.#entries ??= new Map());
    entries.set(entry.id, entry);
    if (persist) this.#write((s) => s.set(entry.id, entry));
    this.#events.pendingChanged_();
    const settled = (error?: unknown): void => {
      if (entries.get(entry.id) !== entry) return; // joined by a later publish with the same id
      entries.delete(entry.id);
      this.#events.pendingChanged_();
      if (error === undefined || error !== this.ended_) this.forget_(entry.id);
    };
    result.then(() => settled(), settled);
  }

  /** Drop a publish from storage (settled, or too old to send at restore). */
  forget_(id: string): void {
    this.#write((s) => s.delete(id));
  }

  list_(): PendingPublish[] {
    return [...(this.#entries?.values() ?? [])].map(({ id, channel, data, queuedAt }) => ({ id, channel, data, queuedAt }));
  }

  /** What the last run left in storage, as `list()` answered it: app code, checked by the caller (outbox-restore.ts). Never throws. */
  stored_(): Promise<unknown> {
    const storage = this.#storage;
    return storage ? Promise.resolve().then(() => storage.list()) : Promise.resolve([]);
  }

  /** Whether a publish with this id is pending in this run. */
  has_(id: string): boolean {
    return this.#entries?.has(id) === true;
  }

  #write(op: (storage: OutboxStorage) => Promise<void>): void {
    const storage = this.#storage;
    if (storage) this.#writes = (this.#writes ?? Promise.resolve()).then(() => op(storage)).catch((cause: unknown) => this.#events.storageFailed_(cause));
  }
}

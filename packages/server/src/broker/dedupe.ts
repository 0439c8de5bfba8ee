/**
 * Remembers recently published ids of one channel so a retried publish (same
 * id, e.g. after a reconnect) returns its original position instead of being
 * stored twice. Bounded by time (window) and by count (size), oldest out first.
 */
export interface DedupeEntry {
  readonly epoch: string;
  readonly offset: number;
  readonly at: number;
}

export class DedupeWindow {
  // Map keeps insertion order = time order, so the oldest ids are at the front.
  readonly #ids = new Map<string, DedupeEntry>();

  constructor(
    readonly windowMs: number,
    readonly maxIds: number,
  ) {}

  get size(): number {
    return this.#ids.size;
  }

  get(id: string, now: number): DedupeEntry | undefined {
    this.prune(now);
    return this.#ids.get(id);
  }

  add(id: string, entry: DedupeEntry): void {
    if (this.maxIds === 0) return;
    this.#ids.set(id, entry);
    if (this.#ids.size > this.maxIds) {
      const oldest = this.#ids.keys().next();
      if (!oldest.done) this.#ids.delete(oldest.value);
    }
  }

  prune(now: number): void {
    const cutoff = now - this.windowMs;
    for (const [id, entry] of this.#ids) {
      if (entry.at >= cutoff) return;
      this.#ids.delete(id);
    }
  }
}

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

/**
 * Compact the order array once this many slots at its front are dead, and
 * only when they are at least half of it: each compaction then copies no
 * more than it has reclaimed, so eviction stays O(1) amortised.
 */
const COMPACT_AFTER = 1024;

export class DedupeWindow {
  /** Lookup only. */
  readonly #ids = new Map<string, DedupeEntry>();
  /**
   * Insertion order = time order, oldest at #head. Kept beside the Map rather
   * than read from the Map's own order: V8 leaves a hole for every deleted Map
   * entry until its next rehash, and each iteration from the front walks them
   * all, which made every evict/prune O(deleted) — thousands of holes per
   * publish once the window was full.
   */
  #order: string[] = [];
  /** When each id of #order was added (same index): prune reads times here, not through the Map. */
  #times: number[] = [];
  #head = 0;

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
    const ids = this.#ids;
    const before = ids.size;
    ids.set(id, entry);
    // Like Map.set: a known id (the size did not change) keeps its place in the order, and its time.
    // (One Map operation per add, not `has` then `set`: a publish costs a get, a set and, once the
    // window is full, a delete — the pinned RTT profile of issue 14 counted each.)
    if (ids.size === before) return;
    this.#order.push(id);
    this.#times.push(entry.at);
    if (ids.size > this.maxIds) this.#dropOldest();
  }

  prune(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.#head < this.#order.length && this.#times[this.#head]! < cutoff) this.#dropOldest();
  }

  #dropOldest(): void {
    this.#ids.delete(this.#order[this.#head]!);
    this.#head++;
    if (this.#head === this.#order.length) {
      this.#order = [];
      this.#times = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
  }
}

/**
 * Ring buffer of one channel's recent messages, oldest first, bounded by count and by bytes.
 * Entries carry their store time so a TTL can trim them from the front.
 *
 * The ring grows on demand (doubling, up to `capacity`) instead of being allocated at full
 * size: a server holds many channels that store little or nothing, and each used to cost a
 * `capacity`-slot array (~8 KB at the default 1,000) even when empty. Memory now follows what
 * a channel holds.
 */
export interface HistoryEntry<T> {
  readonly offset: number;
  readonly at: number;
  readonly value: T;
  /** Approximate encoded size (UTF-16 code units of its frame text); counted against `maxBytes`. */
  readonly bytes?: number;
}

/** The first allocation once a channel stores something. */
const INITIAL_SLOTS = 4;

export class History<T> {
  #slots: (HistoryEntry<T> | undefined)[] = [];
  #start = 0; // index of the oldest entry
  #length = 0;
  #bytes = 0;

  /**
   * @param capacity most entries kept
   * @param maxBytes most bytes kept (sum of entries' `bytes`); the oldest go first. Default: unbounded.
   */
  constructor(
    readonly capacity: number,
    readonly maxBytes = Infinity,
  ) {}

  get length(): number {
    return this.#length;
  }

  /** Sum of the retained entries' `bytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Slots allocated (for tests and stats): grows with what is stored, never past `capacity`. */
  get allocated(): number {
    return this.#slots.length;
  }

  /** Offset of the oldest retained entry, or undefined when empty. */
  oldestOffset(): number | undefined {
    return this.#at(0)?.offset;
  }

  push(entry: HistoryEntry<T>): void {
    if (this.capacity === 0) return;
    const size = entry.bytes ?? 0;
    // Room by bytes first; a lone entry larger than maxBytes is still kept (the newest always is).
    while (this.#length > 0 && this.#bytes + size > this.maxBytes) this.#dropOldest();
    if (this.#length === this.#slots.length && this.#slots.length < this.capacity) this.#grow();
    if (this.#length === this.capacity) this.#dropOldest();
    this.#slots[(this.#start + this.#length) % this.#slots.length] = entry;
    this.#length++;
    this.#bytes += size;
  }

  /** Drop entries stored before `cutoff` (ms). They are at the front: time only moves forward. */
  trimBefore(cutoff: number): void {
    while (this.#length > 0 && this.#at(0)!.at < cutoff) this.#dropOldest();
    // A channel that went quiet gives its slots back.
    if (this.#length === 0 && this.#slots.length > 0) {
      this.#slots = [];
      this.#start = 0;
    }
  }

  /** Entries with offset > `offset`, oldest first. Offsets are consecutive, so this is index math. */
  after(offset: number): T[] {
    const oldest = this.oldestOffset();
    if (oldest === undefined) return [];
    const out: T[] = [];
    for (let i = Math.max(0, offset + 1 - oldest); i < this.#length; i++) out.push(this.#at(i)!.value);
    return out;
  }

  #dropOldest(): void {
    const oldest = this.#slots[this.#start]!;
    this.#bytes -= oldest.bytes ?? 0;
    this.#slots[this.#start] = undefined; // let the payload be collected
    this.#start = (this.#start + 1) % this.#slots.length;
    this.#length--;
  }

  /** Double the ring (at most to capacity), oldest entry moved to slot 0. */
  #grow(): void {
    const size = Math.min(this.capacity, Math.max(INITIAL_SLOTS, this.#slots.length * 2));
    const next = new Array<HistoryEntry<T> | undefined>(size);
    for (let i = 0; i < this.#length; i++) next[i] = this.#at(i);
    this.#slots = next;
    this.#start = 0;
  }

  #at(i: number): HistoryEntry<T> | undefined {
    return i < this.#length ? this.#slots[(this.#start + i) % this.#slots.length] : undefined;
  }
}

/**
 * Fixed-capacity ring buffer of one channel's recent messages, oldest first.
 * Entries carry their store time so a TTL can trim them from the front.
 */
export interface HistoryEntry<T> {
  readonly offset: number;
  readonly at: number;
  readonly value: T;
}

export class History<T> {
  readonly #slots: (HistoryEntry<T> | undefined)[];
  #start = 0; // index of the oldest entry
  #length = 0;

  constructor(readonly capacity: number) {
    this.#slots = new Array<HistoryEntry<T> | undefined>(capacity);
  }

  get length(): number {
    return this.#length;
  }

  /** Offset of the oldest retained entry, or undefined when empty. */
  oldestOffset(): number | undefined {
    return this.#at(0)?.offset;
  }

  push(entry: HistoryEntry<T>): void {
    if (this.capacity === 0) return;
    if (this.#length === this.capacity) {
      this.#slots[this.#start] = entry; // overwrite the oldest
      this.#start = (this.#start + 1) % this.capacity;
    } else {
      this.#slots[(this.#start + this.#length) % this.capacity] = entry;
      this.#length++;
    }
  }

  /** Drop entries stored before `cutoff` (ms). They are at the front: time only moves forward. */
  trimBefore(cutoff: number): void {
    while (this.#length > 0) {
      const oldest = this.#at(0)!;
      if (oldest.at >= cutoff) return;
      this.#slots[this.#start] = undefined; // let the payload be collected
      this.#start = (this.#start + 1) % this.capacity;
      this.#length--;
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

  #at(i: number): HistoryEntry<T> | undefined {
    return i < this.#length ? this.#slots[(this.#start + i) % this.capacity] : undefined;
  }
}

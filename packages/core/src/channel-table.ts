import type { SharedChannel } from './shared-channel';

/**
 * A client's channels by name: the first one held inline, a Map from the second on. Why: most
 * clients hold one channel, and a Map with one entry costs ~180 B of every idle client's heap
 * (its hash table starts with room for four; bench/idle-heap.ts, issue 14). The subset of a Map's
 * API the client uses, with a Map's iteration rules (an entry deleted while iterating is skipped).
 */
export class ChannelTable {
  #name: string | undefined;
  #only: SharedChannel | undefined;
  #map: Map<string, SharedChannel> | undefined;

  get(name: string): SharedChannel | undefined {
    return this.#map ? this.#map.get(name) : name === this.#name ? this.#only : undefined;
  }

  set(name: string, channel: SharedChannel): void {
    if (this.#map) {
      this.#map.set(name, channel);
    } else if (this.#name === undefined || this.#name === name) {
      this.#name = name;
      this.#only = channel;
    } else {
      this.#map = new Map([[this.#name, this.#only!], [name, channel]]);
      this.#name = this.#only = undefined;
    }
  }

  delete(name: string): void {
    if (this.#map) this.#map.delete(name);
    else if (name === this.#name) this.#name = this.#only = undefined;
  }

  /** @returns every channel, in the order they were added */
  values(): IterableIterator<SharedChannel> {
    return this.#map ? this.#map.values() : (this.#only ? [this.#only] : []).values();
  }
}

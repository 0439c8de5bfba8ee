import { TestKitError } from './errors';

/**
 * The next macrotask, looked up once at import: `vi.useFakeTimers()` installed later by a test
 * must not freeze the kit's network (the kit has its own clock for time).
 */
const realSetImmediate = globalThis.setImmediate;
const realSetTimeout = globalThis.setTimeout;
export const nextMacrotask = (fn: () => void): void => {
  if (realSetImmediate) realSetImmediate(fn);
  else realSetTimeout(fn, 0);
};

/** Quiet macrotask turns in a row that count as "at rest": covers promise chains that hop through a macrotask. */
const QUIET_TURNS = 3;

/**
 * The in-memory network: every frame and close event is posted here and delivered on a later
 * macrotask, like bytes off a socket — never re-entrantly inside the `send()` that produced
 * it, and in the order posted. Everything posted during one delivery round waits for the next.
 */
export class Wire {
  #queue: (() => void)[] = [];
  #scheduled = false;

  /** Deliver `fn` on a later macrotask, after everything posted before it. */
  post(fn: () => void): void {
    this.#queue.push(fn);
    if (this.#scheduled) return;
    this.#scheduled = true;
    nextMacrotask(this.#deliver);
  }

  /** Nothing is waiting to be delivered. */
  get idle(): boolean {
    return !this.#scheduled && this.#queue.length === 0;
  }

  /**
   * Resolve once nothing is in flight and the promise chains it started (hooks, broker calls)
   * have run: the network stayed empty for a few macrotask turns. Time does not move.
   * @param maxTurns give up after this many turns (a frame loop that never ends).
   * @throws TestKitError `not_settled` (rejects) past `maxTurns`.
   */
  async settle(maxTurns = 10_000): Promise<void> {
    let quiet = 0;
    for (let turn = 0; turn < maxTurns; turn++) {
      await new Promise<void>((resolve) => nextMacrotask(resolve));
      quiet = this.idle ? quiet + 1 : 0;
      if (quiet >= QUIET_TURNS) return;
    }
    throw new TestKitError('not_settled', `the in-memory network was still busy after ${maxTurns} turns`);
  }

  readonly #deliver = (): void => {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    let failure: { error: unknown } | undefined;
    for (const fn of batch) {
      try {
        fn();
      } catch (error) {
        // The rest of the round is still delivered (a real network does not stop for a bad handler); the first error surfaces.
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  };
}

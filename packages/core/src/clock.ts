/**
 * Time and randomness come from here so every timing rule can be tested with
 * fake timers and a seeded random source. Globals are looked up at call time
 * (not captured at import) so `vi.useFakeTimers()` applies after import too.
 */
export type TimerHandle = unknown;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** One named timer that replaces itself: arming it again cancels the previous shot. */
export class Timer {
  readonly #clock: Clock;
  #handle: TimerHandle | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  start(ms: number, fn: () => void): void {
    this.stop();
    this.#handle = this.#clock.setTimeout(() => {
      this.#handle = undefined;
      fn();
    }, ms);
  }

  stop(): void {
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  get armed(): boolean {
    return this.#handle !== undefined;
  }
}

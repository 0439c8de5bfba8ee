/**
 * Time source for sessions and the memory broker. Globals are looked up on each
 * call (not captured at import) so `vi.useFakeTimers()` also works.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer | undefined): void;
}

export type Timer = ReturnType<typeof setTimeout>;

export const systemClock: Clock = {
  now: () => Date.now(),
  // unref: a pending heartbeat or expiry must never keep the process alive on its own.
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (timer) => clearTimeout(timer),
};

/**
 * Time source for sessions and the memory broker. Globals are looked up on each
 * call (not captured at import) so `vi.useFakeTimers()` also works.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer | undefined): void;
}

/**
 * A pending timer: opaque, only `clearTimeout` reads it. A platform handle from a test clock,
 * or a {@link LongTimer} from the system clock.
 */
export type Timer = ReturnType<typeof setTimeout> | LongTimer;

/** A delay waited out as several platform timers in turn, so the platform handle changes while it waits. */
export class LongTimer {
  /** The platform timer currently armed. */
  id: ReturnType<typeof setTimeout> | undefined;
}

/** The longest delay Node's `setTimeout` honours (2^31−1 ms, ~24.8 days); longer ones fire after 1 ms with a TimeoutOverflowWarning. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * `setTimeout` that never overflows: a delay above 2^31−1 ms waits in steps, NaN and negative
 * delays are 0 (a bad value from a hook or the wire fires at once instead of warning and firing
 * after 1 ms), `Infinity` never fires. Unref'd: a pending heartbeat or expiry must never keep the
 * process alive on its own. Every server timer (session expiry, heartbeat, connect deadline,
 * HTTP session timers, broker sweeps) goes through the clock, so every one gets this.
 */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  const timer = new LongTimer();
  const arm = (left: number) => {
    const step = Math.min(left, MAX_TIMER_DELAY);
    timer.id = setTimeout(() => (left > step ? arm(left - step) : fn()), step).unref();
  };
  arm(ms > 0 ? ms : 0);
  return timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setLongTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer instanceof LongTimer ? timer.id : timer),
};

/**
 * Now, for measuring durations (heartbeat silence, rate buckets, holds, stalls): on the system
 * clock the monotonic `performance.now()`, so a wall-clock step (NTP, an operator, a VM resumed)
 * can neither keep a silent client alive nor cut a healthy one; an injected clock is used as it is
 * (tests drive one time source). Token expiry and stored timestamps stay on `clock.now()`: they
 * are dates.
 * @param clock the server's clock
 * @returns whole milliseconds, only meaningful as a difference from another `elapsed` reading
 */
export function elapsed(clock: Clock): number {
  // Whole ms, as `Date.now()` gave: waits computed from it go on the wire (`retryAfter`), where the
  // protocol carries integers only (a fraction made clients drop the refusal as an invalid frame).
  return clock === systemClock ? Math.floor(performance.now()) : clock.now();
}

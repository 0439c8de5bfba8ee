/**
 * Time and randomness come from here so every timing rule can be tested with
 * fake timers and a seeded random source. Globals are looked up at call time
 * (not captured at import) so `vi.useFakeTimers()` applies after import too.
 */
import { lateGrace } from './protocol/late-deadline';

export type TimerHandle = unknown;

/** Time for every timing rule of the client: `now()` in ms, and timers. Inject one in tests. */
export interface Clock {
  /**
   * Milliseconds on a clock that only moves forward: only differences between two readings are
   * used (deadlines, heartbeats, pacing, lateness), never a date. The system clock's is
   * `performance.timeOrigin + performance.now()` from its first reading, so setting the wall
   * clock back or forward (an NTP step, a user, a VM resumed) cannot stretch or cut any of them.
   */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The longest delay `setTimeout` honours (2^31−1 ms, ~24.8 days); longer ones fire after 1 ms on every platform. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * A delay as a timer can take it: NaN, negative and `-Infinity` become 0 (a bad value read from
 * the wire or an option fires at once rather than spinning or throwing); `Infinity` stays (never).
 */
export function sanitizeDelay(ms: number): number {
  return ms > 0 ? ms : 0;
}

/** A platform timer that waits out delays beyond {@link MAX_TIMER_DELAY} in steps. */
class ChainedHandle {
  id_: ReturnType<typeof setTimeout> | undefined;
}

/**
 * `setTimeout` that never overflows: a delay above 2^31−1 ms is chained in steps, NaN and
 * negative delays are 0. Use it for any raw timer; {@link Timer} is built on the same rule.
 */
export function setLongTimeout(fn: () => void, ms: number): ChainedHandle {
  const handle = new ChainedHandle();
  const arm = (left: number) => {
    const step = Math.min(left, MAX_TIMER_DELAY);
    handle.id_ = globalThis.setTimeout(() => (left > step ? arm(left - step) : fn()), step);
  };
  arm(sanitizeDelay(ms));
  return handle;
}

/** The wall-clock time in ms by the High Resolution Time spec's clock (`Date.now()` where a platform has no `performance`). */
function hrNow(): number {
  const clock = globalThis.performance;
  return clock ? (clock.timeOrigin || 0) + clock.now() : Date.now();
}

/**
 * What `systemClock.now()` counts from: 1 ms before its first reading, so readings are small
 * integers for 12 days or more (V8 keeps those inside an object; 1.7e12 is a 16 B box per
 * field of every idle client, bench/idle-heap.ts), and never 0 or less (some fields use 0 as
 * "none"). Should the time go back past it (fake timers set to an earlier date, a platform
 * without `performance` whose wall clock is set back), it counts from there: a step back, as the
 * raw time took.
 */
let origin: number | undefined;
function sinceOrigin(): number {
  const time = hrNow();
  if (origin === undefined || time - origin < 1) origin = time - 1;
  return Math.floor(time - origin);
}

/**
 * The real clock: a monotonic `now()` (the High Resolution Time spec's `performance.now()`, from
 * the time origin; `Date.now()` only where a platform has no `performance`) and global timers,
 * looked up at call time (so fake timers apply); delays beyond 2^31−1 ms are chained.
 * A delay that fits is the platform timer itself, with no wrapper: an idle client's armed heartbeat costs one timer object.
 */
export const systemClock: Clock = {
  // Whole ms, as `Date.now()` gives (what apps see of it, `retryIn`, stays an integer).
  now: sinceOrigin,
  setTimeout: (fn, ms) => {
    const delay = sanitizeDelay(ms);
    return delay <= MAX_TIMER_DELAY ? globalThis.setTimeout(fn, delay) : setLongTimeout(fn, delay);
  },
  clearTimeout: (h) => globalThis.clearTimeout(h instanceof ChainedHandle ? h.id_ : (h as ReturnType<typeof setTimeout> | undefined)),
};

import { FAR_BEHIND_AFTER, LATE_AFTER, MAX_GRACE } from './protocol/late-deadline';
export { FAR_BEHIND_AFTER, LATE_AFTER, MAX_GRACE };

/**
 * One named timer that replaces itself: arming it again cancels the previous shot. Every core
 * timer (deadlines, heartbeats, retries, pacing) goes through it, for two rules:
 *
 * - **No overflow.** Delays above 2^31−1 ms wait in steps; NaN and negative delays are 0.
 * - **A late deadline judges fresh information.** When the callback comes due later than
 *   {@link LATE_AFTER} ms (the event loop was busy), it first yields one task so frames that
 *   already arrived are processed; when it ran more than {@link FAR_BEHIND_AFTER} ms late, it
 *   waits a grace of half its lateness (at most {@link MAX_GRACE} ms), so an answer whose round
 *   trip the stall delayed can still come in. Only then does the callback run — and it reads the
 *   state as it is now (an ack received, a frame that moved the heartbeat deadline).
 */
export class Timer {
  readonly #clock: Clock;
  #handle: TimerHandle | undefined;
  /** What runs when it comes due; undefined when not armed. */
  #fn: (() => void) | undefined;
  #due = 0;
  /** Milliseconds still to wait after the current platform timer (delays beyond 2^31−1 ms wait in steps). */
  #rest = 0;
  /** The late-deadline grace has been given: the next tick runs `fn`. */
  #graced = false;
  /** The one callback of every platform timer this Timer arms, made on first use (no closure per shot). */
  #tick: (() => void) | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * Run `fn` once after `ms` milliseconds, cancelling any shot this timer had armed.
   * @param ms delay in ms; NaN/negative mean 0, above 2^31−1 is chained, `Infinity` never fires.
   */
  start_(ms: number, fn: () => void): void {
    this.stop_();
    const delay = sanitizeDelay(ms);
    this.#fn = fn;
    this.#due = this.#clock.now() + delay;
    this.#graced = false;
    this.#wait(delay);
  }

  stop_(): void {
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle);
    this.#handle = this.#fn = undefined;
  }

  get armed_(): boolean {
    return this.#handle !== undefined;
  }

  /** Wait `ms` in steps no platform timer overflows on (`Infinity` steps forever). */
  #wait(ms: number): void {
    const step = Math.min(ms, MAX_TIMER_DELAY);
    this.#rest = ms - step;
    this.#handle = this.#clock.setTimeout((this.#tick ??= this.#onTick.bind(this)), step);
  }

  #onTick(): void {
    if (this.#rest > 0) return this.#wait(this.#rest);
    const grace = this.#graced ? undefined : lateGrace(this.#clock.now() - this.#due);
    if (grace !== undefined) {
      this.#graced = true;
      this.#handle = this.#clock.setTimeout(this.#tick!, grace);
      return;
    }
    const fn = this.#fn!;
    this.#handle = this.#fn = undefined;
    fn();
  }
}

/**
 * `promise`, or a rejection with what `timeout()` returns when it has not settled within `ms` —
 * how the SDK bounds app code that may never answer (`getToken`, `outboxStorage.list()`). The
 * late result is ignored; the timer is stopped as soon as either settles.
 */
export function settleWithin<T>(promise: Promise<T>, clock: Clock, ms: number, timeout: () => unknown): Promise<T> {
  const timer = new Timer(clock);
  return new Promise<T>((resolve, reject) => {
    timer.start_(ms, () => reject(timeout()));
    promise.then(resolve, reject).finally(() => timer.stop_());
  });
}

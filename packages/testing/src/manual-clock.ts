import type { Clock, TimerHandle } from '@tidewire/core';
import { TestKitError } from './errors';

interface PendingTimer {
  readonly due: number;
  /** Creation order: timers due at the same instant fire in the order they were set. */
  readonly seq: number;
  readonly fn: () => void;
}

/** Timer firings one `advance`/`runAll` may make before it is called a runaway loop. */
const MAX_FIRINGS = 100_000;

/**
 * A clock that only moves when the test moves it. It implements the client's `clock` option
 * (`now`, `setTimeout`, `clearTimeout`), and the kit hands the same clock to the in-process
 * server's sessions and broker, so heartbeats, deadlines, backoff, token expiry, history TTL and
 * injected network delays all run on one timeline.
 *
 * Timers already due (0 ms, or negative) fire by themselves on the next macrotask — a release
 * delay or a zero backoff does not need a nudge; everything later waits for `advance`, `next`
 * or `runAll`. Between two timers the in-memory network is settled, so frames sent by one timer
 * arrive before the next one fires, as they would in real time.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Set<PendingTimer>();
  readonly #settle: () => Promise<void>;
  readonly #runSoon: (fn: () => void) => void;

  /**
   * @param start initial `now()` in ms since the epoch (default: the real time at creation, so
   *   expiry times computed from `Date.now()` in app code stay plausible).
   * @param settle waits for the in-memory network to come to rest (the kit passes its wire's).
   * @param runSoon schedules a due timer on a later macrotask.
   */
  constructor(start: number, settle: () => Promise<void>, runSoon: (fn: () => void) => void) {
    this.#now = start;
    this.#settle = settle;
    this.#runSoon = runSoon;
  }

  /** @returns the clock's current time, in ms since the epoch. */
  now(): number {
    return this.#now;
  }

  /**
   * @param fn called once, when the clock reaches `now() + ms`
   * @param ms delay in ms; NaN and negative count as 0, `Infinity` never fires
   * @returns a handle for `clearTimeout`
   */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = ms > 0 ? ms : 0;
    const timer: PendingTimer = { due: this.#now + delay, seq: ++this.#seq, fn };
    this.#timers.add(timer);
    if (delay === 0) this.#runSoon(() => this.#fire(timer));
    return timer;
  }

  /** @param handle from `setTimeout`; unknown or already fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as PendingTimer);
  }

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Move time forward by `ms`, firing every timer that falls due on the way, in order (the
   * network settles between timers and once more at the end).
   * @param ms how far, in ms (≥ 0; 0 runs what is already due)
   * @throws TestKitError `invalid_options` for a negative or non-finite `ms`; `not_settled` for a runaway timer loop.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new TestKitError('invalid_options', `clock.advance(ms) needs a finite ms ≥ 0, got ${ms}`);
    await this.#runUntil(this.#now + ms);
  }

  /**
   * Jump to the next pending timer and fire it (and any due at the same instant).
   * @returns false when no timer is pending (time does not move).
   */
  async next(): Promise<boolean> {
    await this.#settle();
    const first = this.#earliest();
    if (!first || !Number.isFinite(first.due)) return false;
    await this.#runUntil(first.due);
    return true;
  }

  /**
   * Fire every timer pending now, and those they set that fall due no later than the last of
   * them; time ends at that last timer. Repeating timers (heartbeats) therefore cannot loop
   * forever: what they re-arm beyond that instant stays pending.
   * @throws TestKitError `not_settled` for a runaway timer loop.
   */
  async runAll(): Promise<void> {
    await this.#settle();
    let last = this.#now;
    for (const timer of this.#timers) if (Number.isFinite(timer.due)) last = Math.max(last, timer.due);
    await this.#runUntil(last);
  }

  /**
   * Fire timers one at a time, in order, until `condition()` holds — e.g. "the client is connected
   * again", whatever its jittered backoff drew. Checked first, after settling the network.
   * @param condition polled after every timer
   * @param limit the most time (ms) it may move forward (default 5 min)
   * @returns the time that passed, in ms
   * @throws TestKitError `not_settled` (rejects) when `limit` passes (or no timer is left) first.
   */
  async advanceUntil(condition: () => boolean, limit = 5 * 60_000): Promise<number> {
    const start = this.#now;
    await this.#settle();
    while (!condition()) {
      const first = this.#earliest();
      if (!first || first.due > start + limit) {
        await this.#runUntil(start + limit);
        if (condition()) break;
        throw new TestKitError('not_settled', `clock.advanceUntil: the condition did not hold within ${limit} ms`);
      }
      await this.#runUntil(first.due);
    }
    return this.#now - start;
  }

  async #runUntil(target: number): Promise<void> {
    for (let fired = 0; ; fired++) {
      await this.#settle();
      const first = this.#earliest();
      if (!first || first.due > target) break;
      if (fired >= MAX_FIRINGS) throw new TestKitError('not_settled', `more than ${MAX_FIRINGS} timers fired in one clock step`);
      this.#fire(first);
    }
    this.#now = Math.max(this.#now, target);
    await this.#settle();
  }

  #fire(timer: PendingTimer): void {
    if (!this.#timers.delete(timer)) return; // cleared, or already fired by advance()
    this.#now = Math.max(this.#now, timer.due);
    timer.fn();
  }

  #earliest(): PendingTimer | undefined {
    let first: PendingTimer | undefined;
    for (const timer of this.#timers) {
      if (!first || timer.due < first.due || (timer.due === first.due && timer.seq < first.seq)) first = timer;
    }
    return first;
  }
}

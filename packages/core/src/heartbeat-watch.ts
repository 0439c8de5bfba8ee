import type { Clock } from './clock';
import { Timer } from './clock';
import { reportUncaught } from './isolate';

/** A connected line whose heartbeat deadline the watch checks. */
export interface Watched {
  /**
   * Check the heartbeat deadline now (see `heartbeatTimeLeft`); a line past it ends itself, which
   * takes it off the watch.
   * @returns ms left before the deadline; 0 or less when the line has just ended
   */
  heartbeatLeft_(): number;
}

/**
 * One timer for the heartbeat deadlines of every connected line on a clock, instead of one per
 * line. Why: an idle connected client holds nothing else that ticks, and a timer per line (the
 * platform's timer object, the Timer around it, their bound callbacks) was ~350 B of each idle
 * client's heap (bench/idle-heap.ts, issue 14). Each line keeps only its last-frame time.
 *
 * The timer aims at the earliest deadline; when it fires, every line is checked and the timer
 * aims at the earliest of their fresh deadlines. A healthy line's deadline keeps moving (each
 * frame moves it), so a check comes at most every (allowance − ping interval), ~12.5 s at the
 * default heartbeat: O(lines) work that often, nothing per frame. The Timer's late-deadline rule
 * (clock.ts) applies once to the shared timer: after a stall, queued frames are read before any
 * line is judged, and a line added meanwhile does not cut that grace short. One line's check
 * throwing (an app's transport whose `close()` throws) is reported and the others are still checked.
 */
export class HeartbeatWatch {
  readonly #clock: Clock;
  readonly #lines = new Set<Watched>();
  readonly #timer: Timer;
  /** When the timer fires (clock ms); only compared, never trusted: a stale aim costs one early check. */
  #aim = Infinity;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#timer = new Timer(clock);
  }

  /**
   * Watch `line`, whose deadline is `left` ms away: the timer is aimed again only when that comes
   * before its aim (not while it is overdue: its check, after the late-deadline grace, sees this line too).
   */
  add_(line: Watched, left: number): void {
    this.#lines.add(line);
    const aimIn = this.#aim - this.#clock.now();
    if (!this.#timer.armed_ || (aimIn > 0 && left < aimIn)) this.#arm(left);
  }

  delete_(line: Watched): void {
    if (this.#lines.delete(line) && this.#lines.size === 0) {
      this.#timer.stop_();
      this.#aim = Infinity;
    }
  }

  #arm(left: number): void {
    const ms = Math.max(0, left);
    this.#aim = this.#clock.now() + ms;
    this.#timer.start_(ms, () => this.#check());
  }

  #check(): void {
    this.#aim = Infinity;
    let next = Infinity;
    // A line that ends is deleted during the loop; a Set's iteration skips it and goes on.
    for (const line of this.#lines) {
      try {
        const left = line.heartbeatLeft_();
        if (left > 0 && left < next) next = left;
      } catch (error) {
        reportUncaught(error);
      }
    }
    if (this.#lines.size > 0) this.#arm(next);
  }
}

/** Watches by clock, then by the platform's `setTimeout` when the line was added. */
const watches = new WeakMap<Clock, WeakMap<object, HeartbeatWatch>>();

/**
 * The heartbeat watch for a line added now on `clock` (made on first use). Lines added while other
 * platform timers are installed (a test suite switching to fake timers and back) get a watch of
 * their own, as each line had a timer of its own before: a watch never waits on timers that were
 * replaced. The line keeps the watch it was added to, to leave it.
 */
export function heartbeatWatch(clock: Clock): HeartbeatWatch {
  const timers = globalThis.setTimeout;
  let byTimers = watches.get(clock);
  if (!byTimers) watches.set(clock, (byTimers = new WeakMap()));
  let watch = byTimers.get(timers);
  if (!watch) byTimers.set(timers, (watch = new HeartbeatWatch(clock)));
  return watch;
}

import type { Clock } from './clock';
import { Timer } from './clock';

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
 * line is judged.
 */
class HeartbeatWatch {
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
   * Watch `line`, whose deadline is `left` ms away. The timer is armed again on every add, so
   * it runs on the platform timers current now (a test that switched to fake timers is served).
   */
  add_(line: Watched, left: number): void {
    this.#lines.add(line);
    this.#arm(Math.min(left, this.#aim - this.#clock.now()));
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
      const left = line.heartbeatLeft_();
      if (left > 0 && left < next) next = left;
    }
    if (this.#lines.size > 0) this.#arm(next);
  }
}

const watches = new WeakMap<Clock, HeartbeatWatch>();

/** The heartbeat watch of every line on `clock` (one per clock, made on first use). */
export function heartbeatWatch(clock: Clock): HeartbeatWatch {
  let watch = watches.get(clock);
  if (!watch) watches.set(clock, (watch = new HeartbeatWatch(clock)));
  return watch;
}

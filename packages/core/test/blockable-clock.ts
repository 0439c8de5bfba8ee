import type { Clock, TimerHandle } from '../src/clock';

/**
 * A clock with its own timer queue, to run overdue timers the way an event loop does after a
 * long task: all of them at the end of the block, each seeing the late time, with the timers
 * they arm (a yield, a grace) left for later — while the I/O that arrived meanwhile comes first.
 */
export class BlockableClock implements Clock {
  time = 1_000_000;
  readonly #timers = new Map<number, { due: number; fn: () => void }>();
  #nextId = 1;
  now = (): number => this.time;
  setTimeout = (fn: () => void, ms: number): TimerHandle => {
    const id = this.#nextId++;
    this.#timers.set(id, { due: this.time + Math.max(0, ms), fn });
    return id;
  };
  clearTimeout = (handle: TimerHandle): void => void this.#timers.delete(handle as number);

  /** Let `ms` pass normally: each timer runs at its due time, microtasks settle in between. */
  async advance(ms: number): Promise<void> {
    await this.#run(this.time + ms, undefined);
  }

  /** The event loop is blocked for `ms`, then runs every timer that came due, all of them late. */
  async block(ms: number): Promise<void> {
    this.time += ms;
    await this.#run(this.time, this.#nextId); // timers armed while catching up wait for a later turn
  }

  async #run(until: number, armedBefore: number | undefined): Promise<void> {
    for (;;) {
      await settle();
      let nextId: number | undefined;
      for (const [id, timer] of this.#timers) {
        if (timer.due > until || (armedBefore !== undefined && id >= armedBefore)) continue;
        if (nextId === undefined || timer.due < this.#timers.get(nextId)!.due) nextId = id;
      }
      if (nextId === undefined) break;
      const timer = this.#timers.get(nextId)!;
      this.#timers.delete(nextId);
      this.time = Math.max(this.time, timer.due);
      timer.fn();
    }
    this.time = until;
    await settle();
  }
}

/** Let pending promise callbacks run (getToken, publish settlement). */
export const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};


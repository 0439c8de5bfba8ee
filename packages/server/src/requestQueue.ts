/**
 * A session's requests, run one at a time in arrival order, so a client's publishes are stored
 * in the order it sent them even when hooks (authorize, authenticate) answer out of order.
 * Bounded: when hooks are slower than the client sends, the session stops accepting work
 * rather than grow without bound.
 *
 * A task that arrives while nothing runs starts at once, in the caller's synchronous step, and one
 * that finishes synchronously (returns no promise) leaves the queue idle: the common request — a
 * publish to an in-memory broker with no hooks — costs no promise of the queue's own. Chaining
 * every task behind a promise cost a microtask and an async frame per request (the pinned RTT
 * profile of issue 14).
 */
export class RequestQueue {
  /** What the last task started (undefined: nothing runs, the next task starts at once). */
  #tail: Promise<void> | undefined;
  #waiting = 0;
  /** A task is in its synchronous start (see {@link push}): tasks pushed meanwhile wait in #reentered. */
  #starting = false;
  #reentered: (() => Promise<void> | void)[] = [];

  /**
   * @param max requests allowed to wait at once
   * @param onError called with a task's error (thrown or rejected); the queue goes on with the next task
   */
  constructor(
    readonly max: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /**
   * Run `task` after every earlier one: at once when none is running.
   * @returns false (and the task is dropped) when `max` tasks are already waiting
   */
  push(task: () => Promise<void> | void): boolean {
    const tail = this.#tail;
    if (tail === undefined && !this.#starting) {
      this.#track(this.#start(task));
      return true;
    }
    if (this.#waiting >= this.max) return false;
    if (tail === undefined) {
      // Pushed from inside a task's synchronous start (a link that answers re-entrantly): after it.
      this.#waiting++;
      this.#reentered.push(task);
      return true;
    }
    this.#waiting++;
    this.#track(
      tail.then(() => {
        this.#waiting--;
        return this.#run(task);
      }),
    );
    return true;
  }

  /** Run `task` now, then whatever was pushed while it started; the promise of all that, or undefined when all is done. */
  #start(task: () => Promise<void> | void): Promise<void> | undefined {
    this.#starting = true;
    let running: Promise<void> | undefined;
    try {
      running = this.#run(task);
    } finally {
      this.#starting = false;
    }
    const later = this.#reentered;
    if (later.length === 0) return running;
    this.#reentered = [];
    let chain = running ?? Promise.resolve();
    for (const next of later) {
      chain = chain.then(() => {
        this.#waiting--;
        return this.#run(next);
      });
    }
    return chain;
  }

  /** Start `task`; its promise (errors reported), or undefined when it finished synchronously. */
  #run(task: () => Promise<void> | void): Promise<void> | undefined {
    let result: Promise<void> | void;
    try {
      result = task();
    } catch (e) {
      this.onError(e);
      return undefined;
    }
    return result ? result.then(undefined, this.onError) : undefined;
  }

  #track(running: Promise<void> | undefined): void {
    if (running === undefined) return;
    this.#tail = running;
    // The queue is idle again once the last task started has finished.
    void running.then(() => {
      if (this.#tail === running) this.#tail = undefined;
    });
  }
}

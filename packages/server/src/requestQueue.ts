/**
 * A session's requests, run one at a time in arrival order, so a client's publishes are stored
 * in the order it sent them even when hooks (authorize, authenticate) answer out of order.
 * Bounded: when hooks are slower than the client sends, the session stops accepting work
 * rather than grow without bound.
 */
export class RequestQueue {
  #tail: Promise<void> = Promise.resolve();
  #waiting = 0;

  /**
   * @param max requests allowed to wait at once
   * @param onError called with a task's error; the queue goes on with the next task
   */
  constructor(
    readonly max: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /**
   * Queue `task` behind every earlier one.
   * @returns false (and the task is dropped) when `max` tasks are already waiting
   */
  push(task: () => Promise<void> | void): boolean {
    if (this.#waiting >= this.max) return false;
    this.#waiting++;
    this.#tail = this.#tail.then(async () => {
      this.#waiting--;
      try {
        await task();
      } catch (e) {
        this.onError(e);
      }
    });
    return true;
  }
}

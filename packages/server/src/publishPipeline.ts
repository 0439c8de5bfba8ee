/** Publishes of one session that may wait for their broker at once (each is ~one message in memory). */
export const MAX_PUBLISHES_IN_FLIGHT = 256;

/**
 * One publish handed to the broker: how to answer it, and its outcome once the broker settled it
 * (`settled`, then `ok` says whether `value` is the result or the error). Plain fields, no closure or
 * outcome object per publish: the pinned RTT profile of issue 14 counted every allocation.
 */
interface InFlight {
  readonly answer: (result: unknown) => void;
  readonly fail: (error: unknown) => void;
  settled: boolean;
  ok: boolean;
  value: unknown;
}

/**
 * A session's publishes that the broker has been handed but not yet stored, when the broker stores
 * a channel's publishes in the order they were handed to it (`Broker.publishesInCallOrder`, e.g.
 * Redis's, which sends a burst as one script call). Without this, the session's request queue waits
 * for each publish's store (a Redis round trip) before it even reads the next one, so a client's
 * throughput is one publish per round trip however many it keeps in flight.
 *
 * What stays as it was: publishes reach the broker in arrival order (the queue still runs their
 * gates, authorize and onPublish, one at a time), their answers from the broker (`ack`, or the
 * `error` of a failed store) go out in that order too (a publish refused at its gate is answered at
 * once: clients pair answers by id), and every other request waits until the publishes before it
 * are answered — so a subscribe, history or presence request after a publish still sees it stored,
 * as it did when each publish was awaited. Answers that are ready together go out in one
 * synchronous step (one socket write for a stored burst, see afterBurst.ts), not one microtask each.
 */
export class PublishPipeline {
  /** Oldest first; the head is answered as soon as it has an outcome, then every settled one after it. */
  readonly #inFlight: InFlight[] = [];
  /** Waiting for room (the queue, at MAX_PUBLISHES_IN_FLIGHT) or for everything to be answered. */
  #waiters: { when: () => boolean; resolve(): void }[] = [];

  /**
   * Answer a publish the broker is storing, after every earlier one was answered.
   * @param stored the broker's publish, already started (so its place in the channel's order is taken)
   * @param answer sends the `ack` (must not throw)
   * @param fail answers the error the broker rejected with (must not throw)
   * @returns undefined when there is room for another publish at once; otherwise a promise that
   *   resolves once there is, which the request queue awaits (so a client cannot grow this without bound)
   */
  add<T>(stored: Promise<T>, answer: (result: T) => void, fail: (error: unknown) => void): Promise<void> | undefined {
    const entry: InFlight = { answer: answer as (result: unknown) => void, fail, settled: false, ok: false, value: undefined };
    this.#inFlight.push(entry);
    stored.then(
      (result) => this.#settle(entry, true, result),
      (error: unknown) => this.#settle(entry, false, error),
    );
    return this.#inFlight.length >= MAX_PUBLISHES_IN_FLIGHT ? this.#wait(() => this.#inFlight.length < MAX_PUBLISHES_IN_FLIGHT) : undefined;
  }

  /** @returns a promise that resolves once every publish added so far has been answered; undefined when none is in flight */
  settled(): Promise<void> | undefined {
    return this.#inFlight.length === 0 ? undefined : this.#wait(() => this.#inFlight.length === 0);
  }

  #settle(entry: InFlight, ok: boolean, value: unknown): void {
    entry.settled = true;
    entry.ok = ok;
    entry.value = value;
    while (this.#inFlight[0]?.settled) {
      const head = this.#inFlight.shift()!;
      try {
        if (head.ok) head.answer(head.value);
        else head.fail(head.value);
      } catch {
        // A throwing answer must not stop the answers after it (answers are documented not to throw).
      }
    }
    if (this.#waiters.length === 0) return;
    const ready = this.#waiters.filter((w) => w.when());
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  #wait(when: () => boolean): Promise<void> {
    return new Promise((resolve) => this.#waiters.push({ when, resolve }));
  }
}

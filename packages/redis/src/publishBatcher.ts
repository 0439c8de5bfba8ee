import type { PublishInput, PublishResult } from '@tidewire/server';

/** Most messages one script call carries (bounds the script's run time, during which Redis serves no one else). */
export const MAX_BATCH = 64;

interface Pending {
  readonly input: PublishInput;
  resolve(result: PublishResult): void;
  reject(error: unknown): void;
}

/** Script calls of one channel this process keeps in flight at once (see PublishBatcher). */
export const MAX_CALLS_IN_FLIGHT = 4;

/**
 * This process's publishes to one channel leave as one script call per burst instead of one each:
 * the first publish goes out at the end of the current tick (with whatever else that tick
 * published), and the publishes of later ticks follow in calls of their own (at most
 * {@link MAX_BATCH} each), up to {@link MAX_CALLS_IN_FLIGHT} calls in flight; beyond that they
 * collect for the next call. Under load the batches grow by themselves; alone, a publish waits for
 * nothing but the tick.
 *
 * Several calls in flight keep Redis busy while this process waits for a reply (on a loaded
 * machine a reply can take milliseconds to be read): Redis runs one connection's commands in the
 * order they were sent, so offsets still follow the order of the calls — which is why `send` must
 * put every call on one connection and never re-send one behind the others (EVAL, not EVALSHA with
 * its NOSCRIPT retry: see RedisConnections.evalInOrder). A failed call rejects each of its
 * publishes with the same (typed) error; the calls after it are not held back, as a publish after a
 * failed one was not before.
 */
export class PublishBatcher {
  readonly #channels = new Map<string, { queue: Pending[]; calls: number }>();
  readonly #send: (channel: string, messages: readonly PublishInput[]) => Promise<PublishResult[]>;

  /** @param send one script call for `messages` of `channel`; resolves with one result per message, in order */
  constructor(send: (channel: string, messages: readonly PublishInput[]) => Promise<PublishResult[]>) {
    this.#send = send;
  }

  /** @returns the message's stored position (or its original one, for a retried id) */
  publish(channel: string, input: PublishInput): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      let state = this.#channels.get(channel);
      if (!state) this.#channels.set(channel, (state = { queue: [], calls: 0 }));
      state.queue.push({ input, resolve, reject });
      // The first publish of this tick schedules the call; the rest of the tick joins it.
      if (state.queue.length === 1) queueMicrotask(() => this.#pump(channel));
    });
  }

  /** Send what is queued, while fewer than MAX_CALLS_IN_FLIGHT calls of the channel are out. */
  #pump(channel: string): void {
    const state = this.#channels.get(channel);
    if (!state) return;
    while (state.queue.length > 0 && state.calls < MAX_CALLS_IN_FLIGHT) {
      const batch = state.queue.splice(0, MAX_BATCH);
      state.calls++;
      let sent: Promise<PublishResult[]>;
      try {
        sent = this.#send(channel, batch.map((p) => p.input));
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent
        .then(
          (results) => batch.forEach((p, i) => p.resolve(results[i]!)),
          (error: unknown) => batch.forEach((p) => p.reject(error)),
        )
        .finally(() => {
          state.calls--;
          if (state.queue.length > 0) this.#pump(channel);
          else if (state.calls === 0) this.#channels.delete(channel);
        });
    }
  }
}

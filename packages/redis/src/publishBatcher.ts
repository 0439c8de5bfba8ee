import type { PublishInput, PublishResult } from '@tidewire/server';

/** Most messages one script call carries (bounds the script's run time, during which Redis serves no one else). */
export const MAX_BATCH = 64;

interface Pending {
  readonly input: PublishInput;
  resolve(result: PublishResult): void;
  reject(error: unknown): void;
}

/**
 * This process's publishes to one channel leave as one script call per burst instead of one each:
 * the first publish goes out at the end of the current tick (with whatever else that tick
 * published), and while a call is in flight the next publishes collect for the following one (at
 * most {@link MAX_BATCH} per call). Under load the batches grow by themselves; alone, a publish
 * waits for nothing but the tick. Offsets follow the order of the calls, as before; a failed call
 * rejects each of its publishes with the same (typed) error.
 */
export class PublishBatcher {
  readonly #queues = new Map<string, Pending[]>();
  readonly #send: (channel: string, messages: readonly PublishInput[]) => Promise<PublishResult[]>;

  /** @param send one script call for `messages` of `channel`; resolves with one result per message, in order */
  constructor(send: (channel: string, messages: readonly PublishInput[]) => Promise<PublishResult[]>) {
    this.#send = send;
  }

  /** @returns the message's stored position (or its original one, for a retried id) */
  publish(channel: string, input: PublishInput): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      const queue = this.#queues.get(channel);
      if (queue) return void queue.push({ input, resolve, reject });
      const fresh: Pending[] = [{ input, resolve, reject }];
      this.#queues.set(channel, fresh);
      queueMicrotask(() => void this.#drain(channel, fresh));
    });
  }

  /** Send the channel's queue in calls of at most MAX_BATCH, one in flight, until it is empty. */
  async #drain(channel: string, queue: Pending[]): Promise<void> {
    while (queue.length) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        const results = await this.#send(channel, batch.map((p) => p.input));
        batch.forEach((p, i) => p.resolve(results[i]!));
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.#queues.delete(channel);
  }
}

import type { RedisConnections } from './connections';
import type { PubsubListener } from './options';

/** A pub/sub message handler (the message text, the channel it came on). */
export type PubsubHandler = (message: string, channel: string) => void;

/** node-redis's listener type admits buffers; the broker never asks for buffer mode, so its handlers get text. */
export const asListener = (handler: PubsubHandler): PubsubListener => handler as PubsubListener;

/**
 * Subscribing and unsubscribing the broker's pub/sub channels (channel notifications, presence
 * changes) on the one subscriber connection, sharded (`SSUBSCRIBE`) or classic as the connections
 * decided. The callers reference-count: they subscribe a name once per process and release it when
 * their last user leaves. An unsubscribe that cannot reach Redis is remembered and retried when the
 * pub/sub connection is back — node-redis would otherwise resubscribe it on reconnect and a channel
 * nobody listens to would stay subscribed for the life of the process.
 */
export class PubsubChannels {
  readonly #redis: RedisConnections;
  /** Released channels whose unsubscribe could not reach Redis yet. */
  readonly #orphans = new Map<PubsubHandler, string>();
  #closed = false;

  constructor(redis: RedisConnections) {
    this.#redis = redis;
  }

  /**
   * Subscribe `name` with `handler`, once Redis is up.
   * @returns resolves once Redis confirmed the subscription
   * @throws RedisBrokerError `broker_unavailable` while the pub/sub connection is down
   */
  subscribe(name: string, handler: PubsubHandler): Promise<void> {
    const subscribed = this.#redis
      .ready()
      .then(() => this.#redis.pubsub((sub) => (this.#redis.sharded ? sub.sSubscribe(name, asListener(handler)) : sub.subscribe(name, asListener(handler)))));
    subscribed.catch(() => {}); // the caller awaits it; never an unhandled rejection
    return subscribed;
  }

  /**
   * Drop `handler` from `name` once its subscribe (`subscribed`) settled — also after a subscribe
   * that timed out: it may still have landed, and must not stay behind.
   */
  release(name: string, handler: PubsubHandler, subscribed: Promise<void>): void {
    void subscribed.catch(() => {}).then(() => this.#unsubscribe(name, handler));
  }

  /** The pub/sub connection is back: retry the unsubscribes that failed while it was down. */
  retryOrphans(): void {
    for (const [handler, name] of this.#orphans) void this.#unsubscribe(name, handler);
  }

  close(): void {
    this.#closed = true;
    this.#orphans.clear();
  }

  async #unsubscribe(name: string, handler: PubsubHandler): Promise<void> {
    const sharded = this.#redis.sharded;
    try {
      await this.#redis.pubsub((sub) => (sharded ? sub.sUnsubscribe(name, asListener(handler)) : sub.unsubscribe(name, asListener(handler))));
      this.#orphans.delete(handler);
    } catch {
      if (!this.#closed) this.#orphans.set(handler, name);
    }
  }
}

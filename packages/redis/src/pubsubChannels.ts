import type { RedisConnections } from './connections';
import { RedisBrokerError } from './errors';
import type { PubsubListener } from './options';

/** A pub/sub message handler (the message text, the channel it came on). */
export type PubsubHandler = (message: string, channel: string) => void;

/**
 * A handler as node-redis's listener (its type admits buffers; the broker never asks for buffer
 * mode, so handlers get text), guarded: a handler that throws — on a payload another writer put on
 * one of our channels — must never throw into node-redis, whose reply parser it would leave broken
 * (every later message on the connection lost, for every channel). The throw is reported instead.
 */
export function guarded(handler: PubsubHandler, report: (error: Error) => void): PubsubListener {
  return ((message: string, channel: string) => {
    try {
      handler(message, channel);
    } catch (cause) {
      report(new RedisBrokerError('broker_failed', `a pub/sub message on "${channel}" could not be handled`, { cause }));
    }
  }) as PubsubListener;
}

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
  /** Each handler's guarded listener (see guarded): the same one unsubscribes it. */
  readonly #listeners = new Map<PubsubHandler, PubsubListener>();
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
    const listener = this.#listener(handler);
    const subscribed = this.#redis
      .ready()
      .then(() => this.#redis.pubsub((sub) => (this.#redis.sharded ? sub.sSubscribe(name, listener) : sub.subscribe(name, listener))));
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
    this.#listeners.clear();
  }

  #listener(handler: PubsubHandler): PubsubListener {
    let listener = this.#listeners.get(handler);
    if (!listener) this.#listeners.set(handler, (listener = guarded(handler, (e) => this.#redis.report(e))));
    return listener;
  }

  async #unsubscribe(name: string, handler: PubsubHandler): Promise<void> {
    const sharded = this.#redis.sharded;
    try {
      const listener = this.#listener(handler);
      await this.#redis.pubsub((sub) => (sharded ? sub.sUnsubscribe(name, listener) : sub.unsubscribe(name, listener)));
      this.#orphans.delete(handler);
      this.#listeners.delete(handler);
    } catch {
      if (!this.#closed) this.#orphans.set(handler, name);
    }
  }
}

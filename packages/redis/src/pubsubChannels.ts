import type { RedisConnections } from './connections';
import { isRedisBrokerError, RedisBrokerError } from './errors';
import type { PubsubListener } from './options';
import { SlotWatch } from './slotWatch';

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
 *
 * On a Redis Cluster a sharded subscription can also be lost while every connection stays up: when
 * its slot moves to another master (resharding), Redis drops it, and node-redis does not reliably
 * subscribe it again (slotWatch.ts). So every subscription held is remembered, and one whose slot
 * moved (or that node-redis reports lost) is subscribed again where the slot lives now, retrying
 * until it lands; then its owner's `onResubscribed` catches up what was published meanwhile.
 */
export class PubsubChannels {
  readonly #redis: RedisConnections;
  /** Subscriptions held (from subscribe to release), by handler: what to subscribe again after a slot moved. */
  readonly #active = new Map<PubsubHandler, { readonly name: string; readonly onResubscribed: () => void }>();
  /** Handlers being subscribed again now (one attempt loop each). */
  readonly #resubscribing = new Set<PubsubHandler>();
  #slotWatch: SlotWatch | undefined;
  /** Released channels whose unsubscribe could not reach Redis yet. */
  readonly #orphans = new Map<PubsubHandler, string>();
  /** Each handler's guarded listener (see guarded): the same one unsubscribes it. */
  readonly #listeners = new Map<PubsubHandler, PubsubListener>();
  #closed = false;

  constructor(redis: RedisConnections) {
    this.#redis = redis;
    redis.onShardLost = (name) => this.#moved(name);
  }

  /**
   * Subscribe `name` with `handler`, once Redis is up.
   * @param onResubscribed called each time the subscription was lost without a reconnect (its
   *   Cluster slot moved) and has been made again: messages published meanwhile were missed
   * @returns resolves once Redis confirmed the subscription
   * @throws RedisBrokerError `broker_unavailable` while the pub/sub connection is down
   */
  subscribe(name: string, handler: PubsubHandler, onResubscribed: () => void = () => {}): Promise<void> {
    const listener = this.#listener(handler);
    this.#active.set(handler, { name, onResubscribed });
    const subscribed = this.#redis.ready().then(() => {
      this.#watchSlots();
      return this.#subscribeOnce(name, listener);
    });
    subscribed.catch(() => {}); // the caller awaits it; never an unhandled rejection
    return subscribed;
  }

  /**
   * Drop `handler` from `name` once its subscribe (`subscribed`) settled — also after a subscribe
   * that timed out: it may still have landed, and must not stay behind.
   */
  release(name: string, handler: PubsubHandler, subscribed: Promise<void>): void {
    this.#active.delete(handler);
    void subscribed.catch(() => {}).then(() => this.#unsubscribe(name, handler));
  }

  /** The pub/sub connection is back: retry the unsubscribes that failed while it was down. */
  retryOrphans(): void {
    for (const [handler, name] of this.#orphans) void this.#unsubscribe(name, handler);
  }

  close(): void {
    this.#closed = true;
    this.#slotWatch?.close();
    this.#orphans.clear();
    this.#listeners.clear();
    this.#active.clear();
  }

  async #subscribeOnce(name: string, listener: PubsubListener): Promise<void> {
    const sharded = this.#redis.sharded;
    const run = (): Promise<void> => this.#redis.pubsub((sub) => (sharded ? sub.sSubscribe(name, listener) : sub.subscribe(name, listener)));
    try {
      await run();
    } catch (e) {
      // The slot moved before node-redis knew (MOVED): a command on the name refreshes its slot map.
      if (!(sharded && isRedisBrokerError(e) && /\b(MOVED|ASK)\b/.test(e.message))) throw e;
      await this.#redis.refreshRoute(name);
      await run();
    }
    this.#slotWatch?.subscribed();
  }

  /** On a Cluster with sharded pub/sub, watch the subscribed names' slots (slotWatch.ts). */
  #watchSlots(): void {
    if (this.#slotWatch || this.#closed || !this.#redis.cluster || !this.#redis.sharded) return;
    const names = (): Iterable<string> => new Set([...this.#active.values()].map((a) => a.name));
    this.#slotWatch = new SlotWatch(() => this.#redis.command(['CLUSTER', 'SLOTS']), names, (name) => this.#moved(name));
  }

  /** `name`'s subscription is gone (its slot moved): subscribe every handler of it again. */
  #moved(name: string): void {
    for (const [handler, active] of this.#active) if (active.name === name) void this.#resubscribe(handler);
  }

  /**
   * Subscribe `handler` again where its slot lives now, retrying (250 ms → 2 s apart) until it
   * lands or is released; then tell its owner, which catches up from Redis.
   */
  async #resubscribe(handler: PubsubHandler): Promise<void> {
    if (this.#resubscribing.has(handler)) return;
    this.#resubscribing.add(handler);
    try {
      for (let attempt = 0; ; attempt++) {
        const active = this.#active.get(handler);
        if (!active || this.#closed) return;
        const { name } = active;
        const listener = this.#listener(handler);
        try {
          // Drop node-redis's entry first, on the master its books name (maybe the old one: it
          // would otherwise resubscribe there on a reconnect), then refresh its slot map and
          // subscribe on the master that owns the slot now.
          await this.#redis.pubsub((sub) => sub.sUnsubscribe(name, listener)).catch(() => {});
          await this.#redis.refreshRoute(name);
          await this.#subscribeOnce(name, listener);
          if (this.#active.get(handler) === active) return active.onResubscribed();
          // Released meanwhile: its unsubscribe may have run before this subscribe landed.
          await this.#redis.pubsub((sub) => sub.sUnsubscribe(name, listener)).catch(() => this.#orphans.set(handler, name));
          return;
        } catch (e) {
          if (attempt === 0) this.#redis.report(this.#redis.classify(e));
          await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 2000)).unref?.());
        }
      }
    } finally {
      this.#resubscribing.delete(handler);
    }
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

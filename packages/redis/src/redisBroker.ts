import { randomBytes } from 'node:crypto';
import type { Position } from '@tidewire/core/protocol';
import type { PresenceMember } from '@tidewire/core/protocol';
import type {
  Broker,
  BrokerMessage,
  BrokerStats,
  BrokerSubscription,
  MessageListener,
  PresenceListener,
  PresenceWatch,
  PublishInput,
  PublishResult,
} from '@tidewire/server';
import { ChannelFeed, type ResumePoint } from './channelFeed';
import { decodeEntries, decodeNotification, decodePublishReply, encodeBody, readNotificationHeader } from './codec';
import type { HistoryQuery, HistoryResult } from '@tidewire/server';
import { dedupeKey } from '@tidewire/server';
import { readHistory } from './history';
import { RedisConnections } from './connections';
import { RedisBrokerError } from './errors';
import { channelKeys, type ChannelKeys } from './keys';
import { resolveOptions, type RedisBrokerOptions, type ResolvedOptions } from './options';
import { HISTORY_SCRIPT, PUBLISH_BATCH_SCRIPT, RANGE_SCRIPT, RESUME_SCRIPT, script } from './scripts';
import { presenceScript } from './presenceScript';
import { RedisPresence } from './presence';
import { PublishBatcher } from './publishBatcher';
import { PubsubChannels } from './pubsubChannels';
import { RedisSessionRelay, type RedisSessionRelayOptions } from './sessionRelay';

/** This process's epoch candidates start with it: 12 random url-safe characters (no `:`, which separates notification fields). */
const epochSource = randomBytes(9).toString('base64url');
let epochCount = 0;
/**
 * A candidate epoch for a call that may have to start one (used only when the channel's metadata is
 * gone): unique per process by its count, across processes by the random source — no random bytes
 * drawn per publish call (they showed in the nodes' profiles).
 */
const newEpoch = (): string => epochSource + (++epochCount).toString(36);

const publishScript = script(PUBLISH_BATCH_SCRIPT);
const resumeScript = script(RESUME_SCRIPT);
const rangeScript = script(RANGE_SCRIPT);
const historyScript = script(HISTORY_SCRIPT);
/** A history page's byte bound, the memory broker's history bound: one script call never copies more (plus one entry). */
export const HISTORY_PAGE_BYTES = 8 * 1024 * 1024;

/** One channel this process listens to: its feed and the one Redis subscription it rides on. */
interface Listened {
  readonly feed: ChannelFeed;
  readonly keys: ChannelKeys;
  /** Subscribe calls holding it (including those still in progress). */
  refs: number;
  readonly subscribed: Promise<void>;
  readonly onNotification: (payload: string) => void;
}

/** Catch-ups after the pub/sub connection came back, ms after its `ready`: the resubscription may land late. */
const CATCH_UP_AFTER_RECONNECT = [0, 1000, 5000];

/**
 * Create a `Broker` that keeps channels in Redis, so several server processes
 * share offsets, history and live delivery.
 *
 * ```ts
 * const broker = createRedisBroker({ client: redisClient }); // or { url: 'redis://…' }
 * const server = createServer({ broker });
 * ```
 *
 * @param options `client` (your node-redis v5 client) or `url`; `prefix` (default `'tidewire'`);
 *   `history` `{ size: 1000, ttl: 300 000 ms }`; `dedupe` `{ ttl: 120 000 ms }`; see {@link RedisBrokerOptions}.
 * @returns a Broker; connections open in the background, and commands wait for them up to `commandTimeout`.
 * @throws RedisBrokerError `invalid_options` (synchronously) for invalid options.
 */
export function createRedisBroker(options: RedisBrokerOptions): RedisBroker {
  return new RedisBroker(options);
}

/**
 * The Redis `Broker`. Per channel: a meta hash (epoch, head), a stream (history,
 * entry id = offset) and a pub/sub channel, all under one hash tag. Publishing
 * is one Lua script; live delivery rides one (sharded) subscription per channel
 * per process, reference-counted, with holes filled from the stream.
 */
export class RedisBroker implements Broker {
  readonly #options: ResolvedOptions;
  readonly #redis: RedisConnections;
  readonly #pubsub: PubsubChannels;
  readonly #presence: RedisPresence;
  readonly #listened = new Map<string, Listened>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #relays = new Set<RedisSessionRelay>();
  readonly #batcher = new PublishBatcher((channel, messages) => this.#publishBatch(channel, messages));
  #closed = false;

  constructor(options: RedisBrokerOptions) {
    this.#options = resolveOptions(options);
    this.#redis = new RedisConnections(options, this.#options);
    this.#pubsub = new PubsubChannels(this.#redis);
    const { prefix, database, presenceTtl: ttl, presenceRefresh: refresh } = this.#options;
    this.#presence = new RedisPresence(this.#redis, this.#pubsub, { prefix, database, ttl, refresh }, (e) => this.#redis.report(e));
    this.#redis.onResubscribed = () => {
      this.#catchUpAll();
      this.#presence.reconnected();
    };
    // Load the scripts once connected, so a burst of first subscribes does not all miss the
    // script cache (NOSCRIPT → EVAL). Best effort: eval() falls back anyway. (Publishes always
    // send their script's source: see RedisConnections.evalInOrder.)
    void this.#redis
      .ready()
      .then(() => Promise.all([resumeScript, rangeScript, historyScript, presenceScript].map((s) => this.#redis.command(['SCRIPT', 'LOAD', s.source]))))
      .catch(() => {});
  }

  /**
   * Resolves once both Redis connections are up. Optional: every call waits for it anyway.
   * @throws RedisBrokerError `broker_unavailable` (Redis not up within commandTimeout), `closed` (closed first)
   */
  ready(): Promise<void> {
    return this.#redis.ready();
  }

  /**
   * @throws RedisBrokerError `broker_unavailable` (with `retryAfter`) while Redis cannot be reached;
   *   the publish may or may not have been stored — a retry with the same id is deduplicated.
   */
  publish(channel: string, message: PublishInput): Promise<PublishResult> {
    // Queued at once, before any await: publishes are stored in call order (see publishesInCallOrder).
    return this.#batcher.publish(channel, message);
  }

  /** A channel's publishes are stored in the order `publish` was called (one queue per channel, see PublishBatcher). */
  readonly publishesInCallOrder = true;

  /** One script call for a burst of one channel's publishes (see PublishBatcher), answers in order. */
  async #publishBatch(channel: string, messages: readonly PublishInput[]): Promise<PublishResult[]> {
    const keys = channelKeys(this.#options.prefix, channel, this.#options.database);
    const o = this.#options;
    // In order, several calls in flight (see PublishBatcher): EVAL, never EVALSHA's re-send.
    const reply = (await this.#redis.evalInOrder(
      publishScript,
      [keys.meta, keys.stream, ...messages.map((m) => keys.dedupe(dedupeKey(m)))],
      [
        newEpoch(),
        String(o.historySize),
        String(o.historyTtl),
        String(o.dedupeTtl),
        String(o.metaTtl),
        keys.notify,
        this.#redis.sharded ? 'SPUBLISH' : 'PUBLISH',
        this.#redis.setNxGet ? '1' : '0',
        ...messages.flatMap((m) => [encodeBody(m.id, m.data), m.fresh ? '1' : '0']),
      ],
    )) as unknown[];
    return decodePublishReply(reply, messages.length);
  }

  /**
   * Subscribe first (so no notification after the resume point is missed),
   * then read the resume point in one script, then register with the feed,
   * which reconciles notifications that overtook the script's reply.
   */
  async subscribe(channel: string, since: Position | undefined, listener: MessageListener): Promise<BrokerSubscription> {
    const listened = this.#acquire(channel);
    try {
      await listened.subscribed;
      const point = await this.#resume(listened.keys, since);
      const registration = await listened.feed.register(point, listener);
      let active = true;
      return {
        epoch: registration.epoch,
        offset: registration.offset,
        recovered: registration.recovered,
        replay: registration.replay,
        unsubscribe: () => {
          if (!active) return;
          active = false;
          registration.remove();
          this.#release(channel);
        },
      };
    } catch (e) {
      this.#release(channel);
      throw this.#redis.classify(e);
    }
  }

  /**
   * Make `member` a member of `channel` in Redis (capability `presence`), replacing an earlier
   * entry with its `clientId`; watchers on every node get `join`. This process refreshes the member
   * until `leavePresence` — or until it dies, after which the member expires (`presence.ttl`) and
   * a surviving node announces its `leave`. See docs/scaling.md, "Presence".
   * @throws RedisBrokerError `broker_unavailable` (with `retryAfter`) while Redis cannot be reached, `closed` after close()
   */
  async enterPresence(channel: string, member: PresenceMember): Promise<void> {
    this.#assertOpen();
    try {
      await this.#presence.enter(channel, member);
    } catch (e) {
      throw this.#redis.classify(e);
    }
  }

  /**
   * Remove the member `clientId` from `channel` (unknown ids are ignored); watchers on every node get `leave`.
   * @throws RedisBrokerError `broker_unavailable` while Redis cannot be reached (the member then expires on its own), `closed` after close()
   */
  async leavePresence(channel: string, clientId: string): Promise<void> {
    this.#assertOpen();
    try {
      await this.#presence.leave(channel, clientId);
    } catch (e) {
      throw this.#redis.classify(e);
    }
  }

  /**
   * The channel's members (on every node) and a listener for every later change, none before.
   * @throws RedisBrokerError `broker_unavailable` while Redis cannot be reached, `closed` after close()
   */
  async watchPresence(channel: string, listener: PresenceListener): Promise<PresenceWatch> {
    this.#assertOpen();
    return this.#presence.watch(channel, listener);
  }

  /**
   * Stored messages of a channel's current epoch, from its stream (capability `history`; see
   * docs/server.md, "Presence and history").
   * @throws RedisBrokerError — `closed`, or the classified Redis failure
   */
  async history(channel: string, query: HistoryQuery): Promise<HistoryResult> {
    this.#assertOpen();
    try {
      const keys = channelKeys(this.#options.prefix, channel, this.#options.database);
      const { historySize: size, historyTtl: ttl, metaTtl } = this.#options;
      return await readHistory((k, args) => this.#redis.eval(historyScript, k, args), keys, { size, ttl, metaTtl, newEpoch: newEpoch(), maxBytes: HISTORY_PAGE_BYTES }, query);
    } catch (e) {
      throw this.#redis.classify(e);
    }
  }

  stats(): BrokerStats {
    return { channels: this.#listened.size };
  }

  /**
   * A relay for `createServer({ broker, relay })`: SSE and long-poll requests that reach a process
   * other than the one holding their session are carried there over this broker's Redis
   * connections (one more pub/sub channel per process, no new connection). See docs/scaling.md,
   * "HTTP transports without sticky sessions". One relay per server.
   * @param options `nodeId` (default: random per process)
   * @returns a {@link RedisSessionRelay}, closed with the broker
   * @throws RedisBrokerError `invalid_options` for a nodeId outside `[A-Za-z0-9_-]+`, `closed` after close()
   */
  sessionRelay(options: RedisSessionRelayOptions = {}): RedisSessionRelay {
    if (this.#closed) throw new RedisBrokerError('closed', 'the Redis broker is closed');
    const relay = new RedisSessionRelay(this.#redis, this.#pubsub, this.#options.prefix, this.#options.database, options);
    this.#relays.add(relay);
    return relay;
  }

  /**
   * Stop every feed, watch and relay and close the connections the broker opened (a client you
   * passed in is left open). Commands in flight get their answers first, but close() never waits
   * longer than `commandTimeout` per connection for them: a Redis that died or stalled is dropped.
   * Idempotent; every call after it throws `closed`.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#presence.close();
    for (const relay of this.#relays) relay.close();
    for (const listened of this.#listened.values()) listened.feed.close();
    this.#listened.clear();
    this.#pubsub.close();
    await this.#redis.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new RedisBrokerError('closed', 'the Redis broker is closed');
  }

  async #resume(keys: ChannelKeys, since: Position | undefined): Promise<ResumePoint> {
    const o = this.#options;
    const reply = (await this.#redis.eval(resumeScript, [keys.meta, keys.stream], [
      newEpoch(),
      String(o.metaTtl),
      String(o.historyTtl),
      since?.epoch ?? '',
      String(since?.offset ?? 0),
      String(o.historySize),
      since ? '1' : '0',
    ])) as [string, number, string, unknown];
    const [epoch, head, status, entries] = reply;
    const replay = decodeEntries(entries, String(epoch));
    // A replay with an entry left out (one decodeEntries could not read) cannot bridge the gap: lost.
    const bridged = status !== 'recovered' || !since || (replay.length === Number(head) - since.offset && replay.every((m, i) => m.offset === since.offset + 1 + i));
    const recovered = status !== 'lost' && bridged;
    return {
      epoch: String(epoch),
      offset: status === 'recovered' && since && bridged ? since.offset : Number(head),
      head: Number(head),
      recovered,
      replay: bridged ? replay : [],
      live: status === 'live',
    };
  }

  #acquire(channel: string): Listened {
    if (this.#closed) throw new RedisBrokerError('closed', 'the Redis broker is closed');
    let listened = this.#listened.get(channel);
    if (!listened) {
      const keys = channelKeys(this.#options.prefix, channel, this.#options.database);
      const feed = new ChannelFeed({
        range: (from, to, epoch) => this.#range(keys, from, to, epoch),
        head: () => this.#head(keys),
      });
      const onNotification = (payload: string): void => {
        const header = readNotificationHeader(payload);
        // Everything in it already delivered (filled from the stream): drop it undecoded.
        if (header && feed.delivered(header.epoch, header.last)) return;
        const messages = decodeNotification(payload, header);
        // One we cannot read (another writer's, another release's): what was stored is in the stream.
        if (messages) feed.notify(...messages);
        else feed.catchUp();
      };
      // Subscribed again after its Cluster slot moved: what was published meanwhile is in the stream.
      const subscribed = this.#pubsub.subscribe(keys.notify, onNotification, () => feed.catchUp());
      listened = { feed, keys, refs: 0, subscribed, onNotification };
      this.#listened.set(channel, listened);
    }
    listened.refs++;
    return listened;
  }

  #release(channel: string): void {
    const listened = this.#listened.get(channel);
    if (!listened || --listened.refs > 0) return;
    this.#listened.delete(channel);
    listened.feed.close();
    this.#pubsub.release(listened.keys.notify, listened.onNotification, listened.subscribed);
  }

  async #range(keys: ChannelKeys, from: number, to: number, epoch: string): Promise<BrokerMessage[]> {
    if (from > to) return [];
    return decodeEntries(await this.#redis.eval(rangeScript, [keys.meta, keys.stream], [String(from), String(to), String(this.#options.historySize), String(this.#options.historyTtl), epoch]), epoch);
  }

  async #head(keys: ChannelKeys): Promise<{ epoch: string | undefined; head: number }> {
    const [epoch, head] = (await this.#redis.command(['HMGET', keys.meta, 'e', 's'], keys.meta)) as [string | null, string | null];
    return { epoch: epoch ?? undefined, head: Number(head ?? 0) };
  }

  #catchUpAll(): void {
    this.#pubsub.retryOrphans();
    for (const delay of CATCH_UP_AFTER_RECONNECT) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        for (const listened of this.#listened.values()) listened.feed.catchUp();
      }, delay);
      timer.unref?.();
      this.#timers.add(timer);
    }
  }
}

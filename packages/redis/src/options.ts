import { RedisBrokerError } from './errors';

/**
 * The part of a node-redis (v5) client the broker uses. A client from
 * `createClient()` of the `redis` package fits; so does one with modules or
 * scripts of its own.
 */
export interface RedisClientLike {
  readonly isOpen: boolean;
  /** node-redis's client options: `database` (from `createClient({ database })` or the URL's `/db`) names the pub/sub channels (keys.ts). */
  readonly options?: { readonly database?: number };
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  /** A new, unconnected client with the same options (used once, for the subscriber connection). */
  duplicate(): RedisClientLike;
  sendCommand(args: readonly string[]): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
  subscribe(channel: string, listener: PubsubListener): Promise<void>;
  unsubscribe(channel: string, listener: PubsubListener): Promise<void>;
  sSubscribe(channel: string, listener: PubsubListener): Promise<void>;
  sUnsubscribe(channel: string, listener: PubsubListener): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
}

/**
 * A pub/sub listener as node-redis types it (its cluster client's unsubscribe takes listeners of
 * either kind). The broker never asks for buffer mode, so its listeners only ever get strings.
 */
export type PubsubListener = (message: string | Buffer, channel: string | Buffer) => unknown;

/** Where the broker's (sharded) subscriptions go: a client's pub/sub methods, or a cluster client's. */
export interface PubsubTarget {
  subscribe(channel: string, listener: PubsubListener): Promise<void>;
  unsubscribe(channel: string, listener: PubsubListener): Promise<void>;
  sSubscribe(channel: string, listener: PubsubListener): Promise<void>;
  sUnsubscribe(channel: string, listener: PubsubListener): Promise<void>;
}

/**
 * The part of a node-redis (v5) cluster client (`createCluster()` of `@redis/client` or `redis`)
 * the broker uses: commands routed by key, (sharded) pub/sub, connection events.
 */
export interface RedisClusterLike extends PubsubTarget {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  /** Send `args` to the master owning `firstKey`'s slot (any node when undefined). */
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  /** Present on cluster clients only: how the broker tells one from a single-server client. */
  nodeClient(node: never): Promise<unknown>;
  /** The cluster's nodes by `host:port`, with their command and (sharded) pub/sub connections. */
  readonly nodeByAddress?: ReadonlyMap<string, { readonly client?: { readonly isReady: boolean }; readonly pubSub?: { readonly client: { readonly isReady: boolean } } }>;
  on(event: 'error' | 'node-error', listener: (error: Error) => void): unknown;
  on(event: 'node-reconnecting', listener: (node: { host: string; port: number }) => void): unknown;
  /** node-redis (5.x) emits it, so spelled, when a shard channel's slot moved and it could not subscribe it again. */
  on(event: 'sharded-shannel-moved-error', listener: (error: unknown, channel: string) => void): unknown;
  off(event: 'error' | 'node-error', listener: (error: Error) => void): unknown;
  off(event: 'node-reconnecting', listener: (node: { host: string; port: number }) => void): unknown;
  off(event: 'sharded-shannel-moved-error', listener: (error: unknown, channel: string) => void): unknown;
  close(): Promise<void>;
  destroy(): void;
}

export interface RedisBrokerOptions {
  /**
   * Your node-redis client: a single-server client (`createClient`) — the broker sends its commands
   * on it and opens one more connection (`client.duplicate()`) for pub/sub — or a Redis Cluster
   * client (`createCluster`), whose own per-node connections carry commands and sharded pub/sub.
   * The broker connects it if it is not open yet, and never closes it. Give one of `client`, `url`
   * or `clusterUrls`.
   */
  client?: RedisClientLike | RedisClusterLike;
  /** `redis://[[user]:password@]host[:port][/db]`: the broker opens (and closes) both connections itself. */
  url?: string;
  /**
   * Some nodes of a Redis Cluster (`redis://host:port`, at least one): the broker makes (and closes)
   * a node-redis cluster client, which discovers the rest. See docs/scaling.md, "Redis Cluster".
   */
  clusterUrls?: readonly string[];
  /**
   * Prefix of every key and pub/sub channel. Default `'tidewire'`. Deployments on one Redis server
   * are kept apart by their prefix or by their database number (`/db` of the URL, or the client's
   * `database`): pub/sub names carry the database when it is not 0.
   */
  prefix?: string;
  /** Per-channel history in a Redis Stream: at most `size` messages (default 1000), none older than `ttl` ms (default 300 000). */
  history?: { size?: number; ttl?: number };
  /** How long a publish id is remembered for deduplication, ms (default 120 000). */
  dedupe?: { ttl?: number };
  /**
   * How long a channel's epoch and head outlive its last publish or subscribe, ms
   * (default 7 days). Only when this expires (or Redis is flushed) does the
   * channel start a new epoch, which costs every client a `gap`.
   */
  metaTtl?: number;
  /**
   * Presence members live in Redis for `ttl` ms (default 30 000) past their node's last refresh,
   * which runs every `refresh` ms (default 10 000; must be below `ttl`). A killed node's members
   * leave (for every watcher) within about `ttl + refresh`; a shorter `ttl` notices sooner and costs
   * one more script call per channel per node per `refresh`. See docs/scaling.md, "Presence".
   */
  presence?: { ttl?: number; refresh?: number };
  /** `'auto'` (default): sharded pub/sub (SSUBSCRIBE/SPUBLISH) on Redis ≥ 7, classic before. All nodes must agree. */
  pubsub?: 'auto' | 'sharded' | 'classic';
  /** A command without an answer after this many ms fails `broker_unavailable` (default 5000). */
  commandTimeout?: number;
  /** `retryAfter` (ms) carried by `broker_unavailable` errors (default 1000). */
  retryAfter?: number;
  /** Connection errors and failed background fills are reported here (default: one `console.warn` per outage). */
  onError?: (error: Error) => void;
}

export interface ResolvedOptions {
  readonly prefix: string;
  /** The Redis database number (0 on a Cluster): pub/sub names carry it when not 0 (keys.ts, pubsubName). */
  readonly database: number;
  readonly historySize: number;
  readonly historyTtl: number;
  readonly dedupeTtl: number;
  readonly metaTtl: number;
  readonly presenceTtl: number;
  readonly presenceRefresh: number;
  readonly pubsub: 'auto' | 'sharded' | 'classic';
  readonly commandTimeout: number;
  readonly retryAfter: number;
}

const DAY = 24 * 60 * 60_000;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new RedisBrokerError('invalid_options', `${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * The database the broker's connections use: the `url`'s `/db`, or the single-server client's own
 * option (a URL given to `createClient` sets it too); 0 on a Cluster, which has no other.
 */
function databaseOf(options: RedisBrokerOptions): number {
  let database: unknown = 0;
  if (options.url !== undefined) {
    try {
      database = Number(new URL(options.url).pathname.slice(1) || 0);
    } catch {
      database = 0; // node-redis refuses the URL itself, typed, on connect
    }
  } else if (options.client && !('nodeClient' in options.client)) {
    database = options.client.options?.database ?? 0;
  }
  return Number.isSafeInteger(database) && (database as number) > 0 ? (database as number) : 0;
}

/** @throws RedisBrokerError `invalid_options` */
export function resolveOptions(options: RedisBrokerOptions): ResolvedOptions {
  const given = [options.client, options.url, options.clusterUrls].filter((o) => o !== undefined).length;
  if (given !== 1) throw new RedisBrokerError('invalid_options', 'createRedisBroker needs exactly one of `client`, `url` or `clusterUrls`');
  if (options.clusterUrls?.length === 0) throw new RedisBrokerError('invalid_options', 'clusterUrls must name at least one node');
  const pubsub = options.pubsub ?? 'auto';
  if (!['auto', 'sharded', 'classic'].includes(pubsub)) throw new RedisBrokerError('invalid_options', `pubsub must be auto, sharded or classic`);
  const prefix = options.prefix ?? 'tidewire';
  if (prefix.length === 0) throw new RedisBrokerError('invalid_options', 'prefix must not be empty');
  const presenceTtl = positive('presence.ttl', options.presence?.ttl, 30_000);
  const presenceRefresh = positive('presence.refresh', options.presence?.refresh, Math.min(10_000, Math.ceil(presenceTtl / 3)));
  if (presenceRefresh >= presenceTtl) {
    throw new RedisBrokerError('invalid_options', `presence.refresh (${presenceRefresh}) must be below presence.ttl (${presenceTtl})`);
  }
  return {
    prefix,
    database: databaseOf(options),
    historySize: positive('history.size', options.history?.size, 1000),
    historyTtl: positive('history.ttl', options.history?.ttl, 5 * 60_000),
    dedupeTtl: positive('dedupe.ttl', options.dedupe?.ttl, 2 * 60_000),
    metaTtl: positive('metaTtl', options.metaTtl, 7 * DAY),
    presenceTtl,
    presenceRefresh,
    pubsub,
    commandTimeout: positive('commandTimeout', options.commandTimeout, 5000),
    retryAfter: positive('retryAfter', options.retryAfter, 1000),
  };
}

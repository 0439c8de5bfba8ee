import { createClient, createCluster } from '@redis/client';
import type { PubsubTarget, RedisBrokerOptions, RedisClientLike, RedisClusterLike } from './options';

/**
 * What the broker's connections need from Redis, whether one server or a Cluster: send a command
 * (to the node owning `key`'s slot, on a Cluster), (un)subscribe, say whether both paths are up,
 * and signal when pub/sub came back after a drop.
 */
export interface RedisLink {
  /** Commands and pub/sub are both connected now. */
  readonly commandsUp: boolean;
  readonly subscriberUp: boolean;
  /** Where (s)subscribe calls go. */
  readonly subscriber: PubsubTarget;
  /** Connect what is not connected yet (stopping early if `isClosed()` turns true meanwhile). */
  start(isClosed: () => boolean): Promise<void>;
  /** One command; `key` routes it on a Cluster (undefined: any node). */
  send(args: readonly string[], key: string | undefined): Promise<unknown>;
  /** Called on every pub/sub reconnect. */
  onResubscribed(listener: () => void): void;
  /** A Redis Cluster. */
  readonly cluster: boolean;
  /** Called with a shard channel whose subscription node-redis lost and did not make again (Cluster only). */
  onShardLost(listener: (channel: string) => void): void;
  /** Close what the broker opened; leave the user's own client as it was. */
  close(): Promise<void>;
}

/** Keep trying, 50 ms → 2 s apart with jitter: a Redis restart must not take the nodes down. */
const reconnectStrategy = (retries: number): number => Math.min(50 * 2 ** retries, 2000) * (0.5 + Math.random() / 2);

/** A node-redis cluster client (`createCluster`) and not a single-server client. */
export const isClusterClient = (client: RedisClientLike | RedisClusterLike): client is RedisClusterLike =>
  typeof (client as Partial<RedisClusterLike>).nodeClient === 'function';

/**
 * Make the link for the broker's options: the user's client (single or Cluster), one made from
 * `url`, or a Cluster client made from `clusterUrls`.
 * @param onError where connection errors go (the broker listens, so an outage never crashes the process)
 */
export function createLink(options: RedisBrokerOptions, onError: (error: Error) => void, closeGrace: number): RedisLink {
  const closer = (client: Closable, ping?: () => Promise<unknown>): Promise<void> => closeQuietly(client, closeGrace, ping);
  if (options.client && isClusterClient(options.client)) return new ClusterLink(options.client, false, onError, closer);
  if (options.clusterUrls) {
    const cluster: RedisClusterLike = createCluster({
      rootNodes: options.clusterUrls.map((url) => ({ url })),
      defaults: { disableOfflineQueue: true, socket: { reconnectStrategy } },
    });
    return new ClusterLink(cluster, true, onError, closer);
  }
  if (options.client) return new SingleLink(options.client, false, onError, closer);
  const client = createClient({ url: options.url, disableOfflineQueue: true, socket: { reconnectStrategy } }) as unknown as RedisClientLike;
  return new SingleLink(client, true, onError, closer);
}

/** One Redis server: commands on the client, pub/sub on its one duplicate. */
class SingleLink implements RedisLink {
  readonly cluster = false;
  readonly subscriber: RedisClientLike;
  readonly #commands: RedisClientLike;
  readonly #owned: boolean;
  readonly #onError: (error: Error) => void;
  readonly #close: (client: Closable, ping?: () => Promise<unknown>) => Promise<void>;
  #onReady: () => void = () => {};

  constructor(commands: RedisClientLike, owned: boolean, onError: (error: Error) => void, close: (client: Closable, ping?: () => Promise<unknown>) => Promise<void>) {
    this.#commands = commands;
    this.#close = close;
    this.#owned = owned;
    this.#onError = onError;
    this.subscriber = commands.duplicate();
    commands.on('error', onError);
    this.subscriber.on('error', onError);
  }

  get commandsUp(): boolean {
    return this.#commands.isReady;
  }

  get subscriberUp(): boolean {
    return this.subscriber.isReady;
  }

  async start(isClosed: () => boolean): Promise<void> {
    if (!this.#commands.isOpen) await this.#commands.connect();
    if (isClosed()) {
      if (this.#owned) await this.#close(this.#commands, () => this.#commands.sendCommand(['PING'])); // closed while the first connect was under way
      return;
    }
    await this.subscriber.connect();
    if (isClosed()) return;
    this.subscriber.on('ready', () => this.#onReady());
  }

  send(args: readonly string[]): Promise<unknown> {
    return this.#commands.sendCommand(args);
  }

  onResubscribed(listener: () => void): void {
    this.#onReady = listener;
  }

  /** One server: shard channels never move. */
  onShardLost(): void {}

  async close(): Promise<void> {
    this.#onReady = () => {};
    // Connections we made are dropped after close: a socket error that comes later (a write to a
    // Redis that died) must still find a listener, or the EventEmitter throws it at the process.
    this.subscriber.on('error', ignore);
    await this.#close(this.subscriber, () => this.subscriber.sendCommand(['PING']));
    this.subscriber.off('error', this.#onError);
    if (this.#owned) {
      this.#commands.on('error', ignore);
      await this.#close(this.#commands, () => this.#commands.sendCommand(['PING']));
      this.#commands.off('error', this.#onError);
    } else {
      // Leave the user's client as it was, but keep swallowing errors of a close still in flight.
      setTimeout(() => this.#commands.off('error', this.#onError), 1000).unref?.();
    }
  }
}

/**
 * A Redis Cluster through node-redis's cluster client: it keeps one command connection per master
 * and, for sharded pub/sub, one subscriber connection per master that owns a subscribed channel
 * (classic pub/sub: one, on any node). Commands go to the master of their key's slot.
 */
class ClusterLink implements RedisLink {
  readonly cluster = true;
  readonly #cluster: RedisClusterLike;
  #onShardLost: (channel: string) => void = () => {};
  readonly #owned: boolean;
  readonly #onError: (error: Error) => void;
  #onReconnecting: () => void = () => {};
  /** Nodes whose connections are reconnecting, by `host:port`, with the timer waiting for them. */
  readonly #recovering = new Map<string, ReturnType<typeof setInterval>>();

  readonly #close: (client: Closable, ping?: () => Promise<unknown>) => Promise<void>;

  constructor(cluster: RedisClusterLike, owned: boolean, onError: (error: Error) => void, close: (client: Closable, ping?: () => Promise<unknown>) => Promise<void>) {
    this.#cluster = cluster;
    this.#close = close;
    this.#owned = owned;
    this.#onError = onError;
    cluster.on('error', onError);
    cluster.on('node-error', onError);
    cluster.on('node-reconnecting', this.#reconnecting);
    cluster.on('sharded-shannel-moved-error', this.#shardLost);
  }

  onShardLost(listener: (channel: string) => void): void {
    this.#onShardLost = listener;
  }

  /** node-redis's event (its spelling) when a slot moved and its own resubscription failed. */
  readonly #shardLost = (_error: unknown, channel: string): void => this.#onShardLost(String(channel));

  get subscriber(): PubsubTarget {
    return this.#cluster;
  }

  /** node-redis answers for each node (a command to a node that is down fails fast): open is the most we know. */
  get commandsUp(): boolean {
    return this.#cluster.isOpen;
  }

  get subscriberUp(): boolean {
    return this.#cluster.isOpen;
  }

  async start(): Promise<void> {
    if (!this.#cluster.isOpen) await this.#cluster.connect();
  }

  send(args: readonly string[], key: string | undefined): Promise<unknown> {
    return this.#cluster.sendCommand(key, false, [...args]);
  }

  /**
   * The listener runs when a node's connection (commands or pub/sub) starts reconnecting —
   * notifications may be lost; the feeds retry their catch-up until Redis answers — and again once
   * every connection to that node is ready, so the catch-ups 1 s and 5 s later happen after the
   * resubscription, however long the node was away. (node-redis's cluster client announces a
   * node's first `ready` only, hence the polling.)
   */
  onResubscribed(listener: () => void): void {
    this.#onReconnecting = listener;
  }

  readonly #reconnecting = (node: { host: string; port: number }): void => {
    this.#onReconnecting();
    const address = `${node.host}:${node.port}`;
    if (this.#recovering.has(address)) return;
    const timer = setInterval(() => {
      const entry = this.#cluster.nodeByAddress?.get(address);
      const connections = [entry?.client, entry?.pubSub?.client].filter((c) => c !== undefined);
      if (!connections.every((c) => c.isReady)) return; // none left (node removed) counts as done
      clearInterval(timer);
      this.#recovering.delete(address);
      this.#onReconnecting();
    }, 250);
    timer.unref?.();
    this.#recovering.set(address, timer);
  };

  async close(): Promise<void> {
    this.#onReconnecting = () => {};
    this.#onShardLost = () => {};
    for (const timer of this.#recovering.values()) clearInterval(timer);
    this.#recovering.clear();
    if (this.#owned) {
      this.#cluster.on('error', ignore); // as in SingleLink.close
      this.#cluster.on('node-error', ignore);
      await this.#close(this.#cluster);
    }
    this.#cluster.off('node-reconnecting', this.#reconnecting);
    this.#cluster.off('sharded-shannel-moved-error', this.#shardLost);
    setTimeout(() => {
      this.#cluster.off('error', this.#onError);
      this.#cluster.off('node-error', this.#onError);
    }, 1000).unref?.();
  }
}

const ignore = (): void => {};

/** What closeQuietly needs of a node-redis client or cluster client. */
interface Closable {
  readonly isOpen: boolean;
  readonly isReady?: boolean;
  close(): Promise<void>;
  destroy(): void;
}

/**
 * Close gracefully when connected (the commands in flight get their answers), otherwise stop
 * reconnecting; never throws (a never-opened client throws on destroy) and never waits longer than
 * about 2 × `grace` ms (`grace` is commandTimeout: the callers of commands still in flight were
 * already answered `broker_unavailable` by then).
 *
 * node-redis's close() resolves on the reply that empties its queue: if Redis died or stalled with
 * commands in flight, that reply never comes. And once close() began, destroy() throws before it
 * cuts the socket. So with `ping` (one server's connection) the queue is drained first: replies come
 * in order, so once a PING sent now is answered every command before it was, and close() cannot
 * wait on anything; no answer within `grace` and the connection is destroyed, socket and all. A
 * Cluster client (no `ping`: it has a connection per node) gets close() bounded by `grace`.
 */
async function closeQuietly(client: Closable, grace: number, ping?: () => Promise<unknown>): Promise<void> {
  try {
    if (!(client.isReady ?? client.isOpen)) {
      if (client.isOpen) client.destroy();
      return;
    }
    if (ping && !(await within(ping().then(() => true, () => true), grace))) return destroyQuietly(client);
    if (!(await within(client.close().then(() => true, () => true), grace))) destroyQuietly(client);
  } catch {
    destroyQuietly(client);
  }
}

/** `work`'s answer, or false once `ms` have passed without one. */
async function within(work: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** destroy() rejects every command still queued and cuts the socket; it throws once close() began (after flushing the queue). */
function destroyQuietly(client: Closable): void {
  try {
    client.destroy();
  } catch {}
}

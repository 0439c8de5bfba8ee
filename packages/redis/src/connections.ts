import { ErrorReply } from '@redis/client';
import { RedisBrokerError, isRedisBrokerError } from './errors';
import { createLink, type RedisLink } from './links';
import type { PubsubTarget, RedisBrokerOptions, ResolvedOptions } from './options';
import type { Script } from './scripts';

/** Redis replies that mean "not now" rather than "never". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY)\b/;

/**
 * The broker's connections per process: on one Redis server, commands (the user's client or one
 * made from the URL) and pub/sub (its duplicate); on a Redis Cluster, node-redis's per-node ones
 * (see links.ts). Every command goes through `command()`, which fails fast and typed instead of
 * waiting in an offline queue: a publish must tell its client "retry later", not hang.
 */
export class RedisConnections {
  readonly #link: RedisLink;
  readonly #options: ResolvedOptions;
  readonly #report: (error: Error) => void;
  readonly #started: Promise<void>;
  #startedOk = false;
  #sharded = false;
  #serverMajorVersion = 0;
  #closed = false;
  /** Called when the subscriber connection is back after a drop (pub/sub messages may be lost). */
  onResubscribed: () => void = () => {};
  /** Called with a shard channel whose subscription node-redis lost and could not make again (a slot that moved). */
  onShardLost: (channel: string) => void = () => {};

  constructor(options: RedisBrokerOptions, resolved: ResolvedOptions) {
    this.#options = resolved;
    this.#report = reporter(options.onError);
    this.#link = createLink(options, this.#onError, resolved.commandTimeout);
    this.#link.onResubscribed(() => {
      if (!this.#closed) this.onResubscribed();
    });
    this.#link.onShardLost((channel) => {
      if (!this.#closed) this.onShardLost(channel);
    });
    this.#started = this.#start();
    this.#started.catch(() => {}); // awaited by every command; never an unhandled rejection
  }

  get sharded(): boolean {
    return this.#sharded;
  }

  /** A Redis Cluster (through node-redis's cluster client), not one server. */
  get cluster(): boolean {
    return this.#link.cluster;
  }

  /**
   * Make the Cluster client route `name`'s slot right: a read of `name` on the master node-redis
   * thinks owns it answers MOVED if the slot moved, and node-redis then refreshes its slot map.
   * Never throws (a Redis away is the caller's next attempt's problem).
   */
  async refreshRoute(name: string): Promise<void> {
    if (this.cluster) await this.command(['EXISTS', name], name).catch(() => {});
  }

  /** The server takes `SET … NX … GET` (Redis ≥ 7.0; known once {@link ready}). */
  get setNxGet(): boolean {
    return this.#serverMajorVersion >= 7;
  }

  /**
   * Resolves once both connections have been up once (and the pub/sub kind is known).
   * @throws RedisBrokerError `broker_unavailable` after commandTimeout, `closed` if closed first
   */
  async ready(): Promise<void> {
    if (this.#startedOk) return;
    await this.#bounded(this.#started, 'connecting to Redis');
    // Closed while connecting: #start returned early, and nothing is up.
    if (!this.#startedOk) throw new RedisBrokerError('closed', 'the Redis broker is closed');
  }

  /**
   * Run a Lua script: EVALSHA, loading it on NOSCRIPT (a restarted or flushed Redis, or a Cluster
   * node that never ran it, does not know it). Every key must share one hash tag (one Cluster slot).
   * @throws RedisBrokerError as {@link command}
   */
  async eval(s: Script, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.command(['EVALSHA', s.sha, ...tail], keys[0]);
    } catch (e) {
      if (!(isRedisBrokerError(e) && e.code === 'broker_failed' && /NOSCRIPT/.test(e.message))) throw e;
      return await this.command(['EVAL', s.source, ...tail], keys[0]);
    }
  }

  /**
   * Run a Lua script with its source (EVAL), never by its hash: a call that may have others of the
   * same caller in flight behind it on this connection. Redis runs one connection's commands in the
   * order sent, so such calls are stored in order — unless one were re-sent, as EVALSHA's NOSCRIPT
   * fallback would, after the ones behind it ran. EVAL cannot miss the script cache; its extra cost
   * is the source's bytes and Redis hashing them, once per call.
   * @throws RedisBrokerError as {@link command}
   */
  evalInOrder(s: Script, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.command(['EVAL', s.source, String(keys.length), ...keys, ...args], keys[0]);
  }

  /**
   * Send one command on the command connection (on a Cluster: the one to the master of `key`'s slot).
   * @param args the command and its arguments
   * @param key the key (or shard channel) the command acts on; undefined: any node
   * @throws RedisBrokerError `broker_unavailable` (with retryAfter) when Redis is unreachable or too slow,
   *   `broker_full` (with retryAfter) when Redis is over maxmemory, `broker_failed` for any other
   *   error reply, `closed` after close().
   */
  async command(args: readonly string[], key?: string): Promise<unknown> {
    if (this.#closed) throw new RedisBrokerError('closed', 'the Redis broker is closed');
    await this.ready();
    if (!this.#link.commandsUp) throw this.unavailable('Redis is not connected');
    try {
      return await this.#bounded(this.#link.send(args, key), args[0] ?? 'command');
    } catch (e) {
      throw this.classify(e);
    }
  }

  /** Run a pub/sub (un)subscription on the subscriber connection, failing fast while it is down. */
  async pubsub(action: (subscriber: PubsubTarget) => Promise<void>): Promise<void> {
    if (this.#closed) throw new RedisBrokerError('closed', 'the Redis broker is closed');
    await this.ready();
    if (!this.#link.subscriberUp) throw this.unavailable('the Redis pub/sub connection is down');
    try {
      await this.#bounded(action(this.#link.subscriber), 'subscribing');
    } catch (e) {
      throw this.classify(e);
    }
  }

  /** Tell `onError` (default: one `console.warn` per outage) about a failure nobody awaits. */
  report(error: Error): void {
    if (!this.#closed) this.#report(error);
  }

  unavailable(message: string, cause?: unknown): RedisBrokerError {
    return new RedisBrokerError('broker_unavailable', message, { retryAfter: this.#options.retryAfter, cause });
  }

  classify(e: unknown): RedisBrokerError {
    if (isRedisBrokerError(e)) return e;
    // Redis over maxmemory (noeviction) refused the whole command or script (see scripts.ts, OOM).
    if (e instanceof ErrorReply && /^OOM\b/.test(e.message)) {
      return new RedisBrokerError('broker_full', `Redis is full (maxmemory): ${e.message}`, { retryAfter: this.#options.retryAfter, cause: e });
    }
    if (e instanceof ErrorReply && !TRANSIENT_REPLY.test(e.message)) {
      return new RedisBrokerError('broker_failed', `Redis refused: ${e.message}`, { cause: e });
    }
    return this.unavailable(`Redis unavailable: ${e instanceof Error ? e.message : String(e)}`, e);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#link.close();
  }

  async #start(): Promise<void> {
    await this.#link.start(() => this.#closed);
    if (this.#closed) return;
    this.#serverMajorVersion = await this.#serverMajor();
    this.#sharded = this.#options.pubsub === 'sharded' || (this.#options.pubsub === 'auto' && this.#serverMajorVersion >= 7);
    this.#startedOk = true;
  }

  /** The server's major version; 0 if INFO is refused (some hosted Redis rename it): the oldest commands then. */
  async #serverMajor(): Promise<number> {
    let info: string;
    try {
      info = String(await this.#link.send(['INFO', 'server'], undefined));
    } catch (e) {
      if (this.#options.pubsub === 'auto') throw e; // as before: 'auto' needs to know
      return 0;
    }
    const match = /redis_version:(\d+)/.exec(info);
    return match ? Number(match[1]) : 0;
  }

  #bounded<T>(work: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.unavailable(`Redis did not answer ${what} within ${this.#options.commandTimeout} ms`)), this.#options.commandTimeout);
    });
    work.catch(() => {}); // it may settle after the timeout; its rejection is already ours
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  readonly #onError = (error: Error): void => {
    if (!this.#closed) this.#report(error);
  };
}

/** The default: one warning per outage, not one per reconnect attempt. */
function reporter(onError: ((error: Error) => void) | undefined): (error: Error) => void {
  if (onError) return onError;
  let last = -Infinity;
  return (error) => {
    const now = performance.now(); // monotonic: a wall-clock step neither silences nor repeats the warning
    if (now - last > 30_000) console.warn(`@tidewire/redis: ${error.message}`);
    last = now;
  };
}

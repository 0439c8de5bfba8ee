import { afterAll, beforeAll } from 'vitest';
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from '../src/index';
import { startRedis, type RedisServer } from './redis-server';

/** A test file's private `redis-server` and the brokers ("server processes") it made on it. */
export interface RedisNodes {
  /** The running server (available from `beforeAll` on). */
  readonly redis: () => RedisServer;
  /**
   * A broker on the server (or on `url`), ready; brokers with the same `prefix` form one cluster.
   * Every one is closed after the file.
   */
  node(prefix: string, options?: Partial<RedisBrokerOptions>, url?: string): Promise<RedisBroker>;
}

/** Start a private `redis-server` for this test file (stopped after it) and make brokers on it. */
export function useRedisNodes(defaults: Partial<RedisBrokerOptions> = {}): RedisNodes {
  let redis: RedisServer | undefined;
  const brokers: RedisBroker[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    await redis?.stop({ kill: true });
  });
  const server = (): RedisServer => {
    if (!redis) throw new Error('redis-server is not started yet (use it from beforeAll on)');
    return redis;
  };
  return {
    redis: server,
    async node(prefix, options = {}, url = server().url) {
      const broker = createRedisBroker({ url, prefix, onError: () => {}, ...defaults, ...options });
      brokers.push(broker);
      await broker.ready();
      return broker;
    },
  };
}

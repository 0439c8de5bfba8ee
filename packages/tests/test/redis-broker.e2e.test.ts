import { afterAll } from 'vitest';
import { createRedisBroker } from '../../redis/src/index';
import { startRedis } from '../../redis/test/redis-server';
import { closeTestBrokers, useTestBroker } from './helpers/test-broker';

/**
 * The end-to-end behaviour suite of transports.e2e.test.ts — every case,
 * over all three transports — with each test server on the Redis broker
 * instead of the memory broker. Each server gets its own key prefix, so
 * every test starts with empty channels, as it does in memory.
 */
const redis = await startRedis();
afterAll(async () => {
  await closeTestBrokers();
  await redis.stop({ kill: true });
});

let servers = 0;
useTestBroker(({ history, dedupe }) =>
  createRedisBroker({
    url: redis.url,
    prefix: `e2e${++servers}`,
    history,
    ...(dedupe?.window !== undefined && { dedupe: { ttl: dedupe.window } }),
    onError: () => {},
  }),
);

await import('./transports.e2e.test');

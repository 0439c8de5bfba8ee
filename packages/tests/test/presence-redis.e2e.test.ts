import { afterAll } from 'vitest';
import { createRedisBroker } from '../../redis/src/index';
import { startRedis } from '../../redis/test/redis-server';
import { closeTestBrokers, useTestBroker } from './helpers/test-broker';

/**
 * The presence suite (presence.e2e.test.ts) — members with the server-assigned id, user and info,
 * several handles as one member, removal on disconnect and re-entry after a reconnect, a watcher's
 * resync after its own drop, separate authorization of reading and joining — over all three
 * transports, with each test server on the Redis broker. Each server gets its own key prefix, so
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
    prefix: `presence${++servers}`,
    history,
    ...(dedupe?.window !== undefined && { dedupe: { ttl: dedupe.window } }),
    onError: () => {},
  }),
);

await import('./presence.e2e.test');

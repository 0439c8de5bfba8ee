import { afterAll } from 'vitest';
import { createRedisBroker } from '../../redis/src/index';
import { startRedis } from '../../redis/test/redis-server';
import { closeTestBrokers, useTestBroker } from './helpers/test-broker';

/**
 * The history suite (history.e2e.test.ts) — paging at both ends of the window, refusals, and
 * recent-then-live while publishing, over all three transports — on the Redis broker. Each server
 * gets its own key prefix, so every test starts with empty channels, as it does in memory.
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
    prefix: `history${++servers}`,
    history,
    ...(dedupe?.window !== undefined && { dedupe: { ttl: dedupe.window } }),
    onError: () => {},
  }),
);

await import('./history.e2e.test');

import { afterAll } from 'vitest';
import { createRedisBroker } from '../../redis/src/index';
import { startRedis } from '../../redis/test/redis-server';
import { closeTestBrokers, useTestBroker } from './helpers/test-broker';

/** The `server.subscribe` suite with each server on the Redis broker (its own key prefix per server). */
const redis = await startRedis();
afterAll(async () => {
  await closeTestBrokers();
  await redis.stop({ kill: true });
});

let servers = 0;
useTestBroker(({ history, dedupe }) =>
  createRedisBroker({
    url: redis.url,
    prefix: `sub${++servers}`,
    history,
    ...(dedupe?.window !== undefined && { dedupe: { ttl: dedupe.window } }),
    onError: () => {},
  }),
);

await import('./server-subscribe.e2e.test');

import { afterAll } from 'vitest';
import { createRedisBroker } from '../../redis/src/index';
import { startRedis } from '../../redis/test/redis-server';
import { closeTestBrokers, useTestBroker } from './helpers/test-broker';

/**
 * The RPC, binary-payload and server-hook suites (rpc, binary, hooks .e2e.test.ts) — every case,
 * over all three transports — with each test server on the Redis broker instead of the memory
 * broker: bytes envelopes, publish ids (echo: false) and skips (except) must survive Redis
 * storage and fan-out as they do in memory. Each server gets its own key prefix.
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
    prefix: `features${++servers}`,
    history,
    ...(dedupe?.window !== undefined && { dedupe: { ttl: dedupe.window } }),
    onError: () => {},
  }),
);

await import('./rpc.e2e.test');
await import('./binary.e2e.test');
await import('./hooks.e2e.test');

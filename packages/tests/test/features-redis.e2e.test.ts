import { useRedisTestBroker } from './helpers/test-broker-redis';

/**
 * The RPC, binary-payload and server-hook suites (rpc, binary, hooks .e2e.test.ts) — every case,
 * over all three transports — with each test server on the Redis broker instead of the memory
 * broker: bytes envelopes, publish ids (echo: false) and skips (except) must survive Redis
 * storage and fan-out as they do in memory. Each server gets its own key prefix.
 */
await useRedisTestBroker('features');

await import('./rpc.e2e.test');
await import('./binary.e2e.test');
await import('./hooks.e2e.test');

import { useRedisTestBroker } from './helpers/test-broker-redis';

/** The per-publisher dedupe suite (dedupe-scope.e2e.test.ts) on the Redis broker. */
await useRedisTestBroker('dedupescope');

await import('./dedupe-scope.e2e.test');

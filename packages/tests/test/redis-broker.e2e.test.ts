import { useRedisTestBroker } from './helpers/test-broker-redis';

/**
 * The end-to-end behaviour suite of transports.e2e.test.ts — every case,
 * over all three transports — with each test server on the Redis broker
 * instead of the memory broker. Each server gets its own key prefix, so
 * every test starts with empty channels, as it does in memory.
 */
await useRedisTestBroker('e2e');

await import('./transports.e2e.test');

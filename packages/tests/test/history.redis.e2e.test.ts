import { useRedisTestBroker } from './helpers/test-broker-redis';

/**
 * The history suite (history.e2e.test.ts) — paging at both ends of the window, refusals, and
 * recent-then-live while publishing, over all three transports — on the Redis broker. Each server
 * gets its own key prefix, so every test starts with empty channels, as it does in memory.
 */
await useRedisTestBroker('history');

await import('./history.e2e.test');

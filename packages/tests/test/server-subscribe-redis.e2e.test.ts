import { useRedisTestBroker } from './helpers/test-broker-redis';

/** The `server.subscribe` suite with each server on the Redis broker (its own key prefix per server). */
await useRedisTestBroker('sub');

await import('./server-subscribe.e2e.test');

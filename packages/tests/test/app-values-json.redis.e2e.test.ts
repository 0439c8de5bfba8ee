import { useRedisTestBroker } from './helpers/test-broker-redis';

/**
 * The app-values suite (app-values-json.e2e.test.ts) on the Redis broker, over all three transports:
 * an onPublish answer or a presence user that is not JSON never reaches Redis, and what is stored
 * there reads back through history and `recent`. (Its history-page test brings its own memory broker.)
 */
await useRedisTestBroker('appvalues');

await import('./app-values-json.e2e.test');

import { useRedisTestBroker } from './helpers/test-broker-redis';

/**
 * The presence suite (presence.e2e.test.ts) — members with the server-assigned id, user and info,
 * several handles as one member, removal on disconnect and re-entry after a reconnect, a watcher's
 * resync after its own drop, separate authorization of reading and joining — over all three
 * transports, with each test server on the Redis broker. Each server gets its own key prefix, so
 * every test starts with empty channels, as it does in memory.
 */
await useRedisTestBroker('presence');

await import('./presence.e2e.test');

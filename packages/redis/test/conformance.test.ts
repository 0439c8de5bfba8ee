import { afterAll, beforeAll } from 'vitest';
import { MemoryBroker } from '@tidewire/server';
import { createRedisBroker } from '../src/index';
import { brokerConformance } from './broker-conformance';
import { startRedis, type RedisServer } from './redis-server';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop({ kill: true }));

let namespace = 0;

brokerConformance('MemoryBroker', async ({ historySize }) => new MemoryBroker({ history: { size: historySize } }));

brokerConformance('Redis broker', async ({ historySize }) => {
  // Its own key prefix per case: a fresh, empty broker on the shared server.
  const broker = createRedisBroker({ url: redis.url, prefix: `conf${++namespace}`, history: { size: historySize } });
  await broker.ready();
  return broker;
});

// Redis < 7 has no sharded pub/sub: the same contract over classic SUBSCRIBE/PUBLISH.
brokerConformance('Redis broker, classic pub/sub', async ({ historySize }) => {
  const broker = createRedisBroker({ url: redis.url, prefix: `classic${++namespace}`, pubsub: 'classic', history: { size: historySize } });
  await broker.ready();
  return broker;
});

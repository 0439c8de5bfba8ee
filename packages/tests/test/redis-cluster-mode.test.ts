import { afterAll, beforeAll } from 'vitest';
import { createRedisBroker, type RedisClusterLike } from '../../redis/src/index';
import { brokerConformance } from '../../redis/test/broker-conformance';
import { appClusterClient } from '../../redis/test/cluster-client';
import { startRedisCluster, type RedisCluster } from './helpers/redis-cluster';

/**
 * The Broker contract (broker-conformance.ts: offsets, dedupe, resume, races, presence) on a real
 * three-master Redis Cluster: once with a cluster client the broker makes from `clusterUrls`, once
 * with the application's own `createCluster()` client. Every case uses fresh channel names, which
 * hash to slots all over the cluster.
 */
let cluster: RedisCluster;
const ownClients: RedisClusterLike[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  await Promise.all(ownClients.map((c) => c.close().catch(() => {})));
  await cluster?.stop();
});

let namespace = 0;

brokerConformance('Redis broker on a Redis Cluster (clusterUrls)', async ({ historySize }) => {
  const broker = createRedisBroker({ clusterUrls: cluster.urls, prefix: `cc${++namespace}`, history: { size: historySize }, onError: () => {} });
  await broker.ready();
  return broker;
});

brokerConformance("Redis broker on the application's createCluster() client", async ({ historySize }) => {
  const client = appClusterClient(cluster.urls.slice(0, 1));
  ownClients.push(client);
  const broker = createRedisBroker({ client, prefix: `own${++namespace}`, history: { size: historySize }, onError: () => {} });
  await broker.ready();
  return broker;
});

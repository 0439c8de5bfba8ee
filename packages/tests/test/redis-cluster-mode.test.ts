import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerMessage } from '@tidewire/server';
import { createRedisBroker, type RedisClusterLike } from '../../redis/src/index';
import { brokerConformance } from '../../redis/test/broker-conformance';
import { appClusterClient } from '../../redis/test/cluster-client';
import { until } from '../../redis/test/broker-conformance';
import { namesOnEveryMaster, nodeConnections, startRedisCluster, type RedisCluster } from './helpers/redis-cluster';

/**
 * The Broker contract (broker-conformance.ts: offsets, dedupe, resume, races, presence) on a real
 * three-master Redis Cluster: once with a cluster client the broker makes from `clusterUrls`, once
 * with the application's own `createCluster()` client. Every case uses fresh channel names, which
 * hash to slots all over the cluster. Last, a master is killed and restarted under a subscriber.
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

describe('connections on a Redis Cluster', () => {
  it('at most one command and one subscriber connection per master, however many channels are subscribed and watched', async () => {
    const before = await Promise.all(cluster.ports.map(nodeConnections));
    const broker = createRedisBroker({ clusterUrls: cluster.urls, prefix: 'conns', onError: () => {} });
    await broker.ready();
    try {
      const names = (await namesOnEveryMaster(cluster, 'conns', 3)).flat();
      for (const name of names) {
        await broker.subscribe(name, undefined, () => {});
        await broker.watchPresence(name, () => {});
        await broker.publish(name, { id: 'x', data: 1 });
        await broker.enterPresence(name, { clientId: 'c', user: null });
      }
      const after = await Promise.all(cluster.ports.map(nodeConnections));
      // (At most: a connection of an earlier case may still be closing when `before` was counted.)
      for (const [i, n] of after.entries()) expect(n - before[i]!).toBeLessThanOrEqual(2);
    } finally {
      await broker.close();
    }
  });
});

describe('a Redis Cluster master dies and comes back', () => {
  it('refuses typed while its slots are down, then delivers again on the restarted shard (a new epoch: it restarted empty)', async () => {
    const broker = createRedisBroker({ clusterUrls: cluster.urls, prefix: 'failover', commandTimeout: 1000, onError: () => {} });
    await broker.ready();
    try {
      const [onFirst, onSecond] = (await namesOnEveryMaster(cluster, 'failover')).map(([name]) => name);
      const got: BrokerMessage[] = [];
      const steady: BrokerMessage[] = [];
      await broker.subscribe(onFirst!, undefined, (m) => got.push(m));
      await broker.subscribe(onSecond!, undefined, (m) => steady.push(m));
      const before = await broker.publish(onFirst!, { id: 'before', data: 'before' });
      await until(() => got.length === 1, 'the first message');

      await cluster.killNode(0);
      await expect(broker.publish(onFirst!, { id: 'down', data: 'down' })).rejects.toMatchObject({ code: 'broker_unavailable' });
      await cluster.restartNode(0);
      let after: Awaited<ReturnType<typeof broker.publish>> | undefined;
      const start = Date.now();
      while (!after && Date.now() - start < 30_000) {
        after = await broker.publish(onFirst!, { id: 'after', data: 'after' }).catch(() => undefined);
        if (!after) await new Promise((r) => setTimeout(r, 200));
      }
      expect(after).toMatchObject({ offset: 1 });
      expect(after!.epoch).not.toBe(before.epoch);
      // The subscription to the restarted shard came back by itself: live delivery resumes.
      await broker.publish(onFirst!, { id: 'later', data: 'later' });
      await until(() => got.some((m) => m.data === 'later'), 'delivery from the restarted shard', 30_000);
      expect(got.map((m) => m.data).filter((d) => d !== 'down')).toEqual(['before', 'after', 'later']);
      // The other shards never stopped.
      await broker.publish(onSecond!, { id: 's', data: 'steady' });
      await until(() => steady.length === 1, 'the other shard');
    } finally {
      await broker.close();
    }
  }, 90_000);
});

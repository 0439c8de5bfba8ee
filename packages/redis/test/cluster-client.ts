import { createCluster } from '@redis/client';
import type { RedisClusterLike } from '../src/index';

/**
 * A node-redis cluster client as an application makes one (`createCluster({ rootNodes })`), for
 * tests that hand the broker their own client. Not connected: the broker connects it.
 * @param urls some nodes of the cluster
 * @returns the client, with its errors swallowed (a test's Redis goes away on purpose)
 */
export function appClusterClient(urls: readonly string[]): RedisClusterLike {
  const client = createCluster({ rootNodes: urls.map((url) => ({ url })) });
  client.on('error', () => {});
  return client;
}

/**
 * Two deployments on one Redis separated by database number (`url: redis://host:port/1` vs `/0`,
 * which the `url` option documents) with the default prefix. Keys are per database, but Redis
 * pub/sub (classic and sharded) ignores the database: without the database in the pub/sub names,
 * deployment X's presence changes reached deployment Y's watchers (X's users announced to Y).
 */
import { expect, it } from 'vitest';
import type { PresenceEvent } from '@tidewire/server';
import { createClient } from '@redis/client';
import { createRedisBroker } from '../src/index';
import { eventually as until, useRedis } from './redis-server';

const redis = useRedis();


it("a deployment in another Redis database never shows up in this deployment's presence", async () => {
  const staging = createRedisBroker({ url: `${redis.url}/1`, onError: () => {} }); // default prefix
  const production = createRedisBroker({ url: `${redis.url}/0`, onError: () => {} });
  await Promise.all([staging.ready(), production.ready()]);
  try {
    const seen: PresenceEvent[] = [];
    const watch = await production.watchPresence('room', (e) => seen.push(e));
    await staging.enterPresence('room', { clientId: 'mallory', user: { name: 'staging user' } });
    // Production's own member: once its join is seen, anything published before it was seen too.
    await production.enterPresence('room', { clientId: 'alice', user: { name: 'alice' } });
    expect(await until(() => seen.some((e) => e.member.clientId === 'alice'))).toBe(true);
    // Observed: [join mallory, …] — staging's member announced to production's watchers.
    expect(seen.filter((e) => e.member.clientId === 'mallory')).toEqual([]);
    watch.unsubscribe();
  } finally {
    await Promise.all([staging.close(), production.close()]);
  }
});

it("another database's channel notifications and relay inboxes never reach this deployment", async () => {
  const client = createClient({ url: `${redis.url}/2` }); // the database from the application's own client
  client.on('error', () => {});
  const staging = createRedisBroker({ client, onError: () => {} });
  const production = createRedisBroker({ url: redis.url, onError: () => {} });
  const admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await Promise.all([staging.ready(), production.ready(), admin.connect()]);
  const stagingRelay = staging.sessionRelay({ nodeId: 'same-node' });
  const productionRelay = production.sessionRelay({ nodeId: 'same-node' });
  try {
    const got: unknown[] = [];
    const sub = await production.subscribe('news', undefined, (m) => got.push(m.data));
    await staging.publish('news', { id: 's1', data: 'staging' });
    await production.publish('news', { id: 'p1', data: 'production' });
    expect(await until(() => got.length > 0)).toBe(true);
    expect(got).toEqual(['production']);
    // Each deployment's names: database 0 keeps the bare ones, database 2 ends in :db2.
    const names = ((await admin.sendCommand(['PUBSUB', 'SHARDCHANNELS'])) as string[]).sort();
    expect(names).toEqual(['tidewire:{news}:notify', 'tidewire:{node:same-node}:inbox', 'tidewire:{node:same-node}:inbox:db2']);
    // A relay with the same node id in the other database is not this deployment's node.
    productionRelay.serve(async () => ({ status: 200, headers: {}, body: 'production' }));
    stagingRelay.serve(async () => ({ status: 200, headers: {}, body: 'staging' }));
    const answer = await productionRelay.forward('same-node', { method: 'GET', url: '/x', headers: {}, body: '' }, 5000);
    expect(answer?.body).toBe('production');
    sub.unsubscribe();
  } finally {
    await Promise.all([staging.close(), production.close()]);
    await client.close().catch(() => {});
    await admin.close();
  }
});

/**
 * Redis `maxmemory` + `noeviction` is the operator's bound on Redis memory. Redis refuses a legacy
 * (flag-less) EVAL script only at its *first* write, and only when that write is deny-oom: a script
 * whose first write is e.g. `PEXPIRE` (as the publish script's was) writes anything after it, and
 * Redis grows without bound past maxmemory. Every script that can grow memory must start its writes
 * with a deny-oom command (scripts.ts, "OOM"), and the refusal is a typed `broker_full`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '@redis/client';
import { createRedisBroker, isRedisBrokerError, type RedisBrokerError } from '../src/index';
import { startRedis, type RedisServer } from './redis-server';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop({ kill: true });
});

it('publishes to an existing channel are refused (typed) once Redis is over maxmemory with noeviction', async () => {
  const broker = createRedisBroker({ url: redis.url, prefix: 'm', onError: () => {} });
  const admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await admin.connect();
  const used = async () => Number(/used_memory:(\d+)/.exec(String(await admin.sendCommand(['INFO', 'memory'])))![1]);
  try {
    await broker.publish('c', { id: 'first', data: 'x' }); // the channel exists
    const limit = (await used()) + 256 * 1024;
    await admin.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
    await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', String(limit)]);

    const body = 'y'.repeat(16 * 1024);
    let refused: unknown;
    let stored = 1;
    for (let i = 0; i < 400 && refused === undefined; i++) {
      await broker.publish('c', { id: `m${i}`, data: body }).then(
        () => void stored++,
        (e: unknown) => (refused = e),
      );
    }
    const after = await used();
    const length = Number(await admin.sendCommand(['XLEN', 'm:{c}:stream']));
    await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '0']);
    // Refused typed once over the limit; Redis stays near maxmemory (one call's worth over at most),
    // and the refused publish stored nothing (the stream holds exactly the accepted ones).
    expect(isRedisBrokerError(refused) && (refused as RedisBrokerError).code).toBe('broker_full');
    expect((refused as RedisBrokerError).retryAfter).toBeGreaterThan(0);
    expect(after).toBeLessThan(limit + 1024 * 1024);
    expect(length).toBe(stored);
    // Memory back: the same id is accepted, stored once.
    const retried = await broker.publish('c', { id: 'retry-after-full', data: 'z' });
    expect(retried.offset).toBe(stored + 1);
  } finally {
    await broker.close();
    await admin.close();
  }
});

it('a publish to a new channel, a subscribe to one and a presence enter are refused typed when over maxmemory', async () => {
  const broker = createRedisBroker({ url: redis.url, prefix: 'm2', onError: () => {} });
  const admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await admin.connect();
  try {
    await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '1']);
    const code = (e: unknown): unknown => (isRedisBrokerError(e) ? e.code : e);
    const publish = await broker.publish('brand-new', { id: 'n', data: 1 }).catch(code);
    const subscribe = await broker.subscribe('brand-new-2', undefined, () => {}).catch(code);
    const enter = await broker.enterPresence('room', { clientId: 'c1', user: 1 }).catch(code);
    await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '0']);
    expect([publish, subscribe, enter]).toEqual(['broker_full', 'broker_full', 'broker_full']);
    expect(await admin.sendCommand(['KEYS', 'm2:*'])).toEqual([]);
  } finally {
    await broker.close();
    await admin.close();
  }
});

it('presence refreshes go on at maxmemory: members of a full Redis do not expire', async () => {
  const presence = { ttl: 1500, refresh: 500 };
  const owner = createRedisBroker({ url: redis.url, prefix: 'm3', presence, onError: () => {} });
  const watcher = createRedisBroker({ url: redis.url, prefix: 'm3', presence, onError: () => {} });
  const admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await admin.connect();
  try {
    await owner.enterPresence('room', { clientId: 'kept', user: 1 });
    const left: string[] = [];
    const watch = await watcher.watchPresence('room', (e) => void (e.action === 'leave' && left.push(e.member.clientId)));
    await admin.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
    await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '1']);
    // Three TTLs: without its refreshes (touch refused OOM) the member would expire and be swept.
    await new Promise((r) => setTimeout(r, 3 * presence.ttl));
    await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '0']);
    expect(left).toEqual([]);
    expect(await admin.sendCommand(['HKEYS', 'm3:{room}:presence'])).toEqual(['kept']);
    watch.unsubscribe();
  } finally {
    await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '0']).catch(() => {});
    await Promise.all([owner.close(), watcher.close()]);
    await admin.close();
  }
});

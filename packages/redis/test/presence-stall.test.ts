import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@redis/client';
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from '../src/index';
import type { RedisConnections } from '../src/connections';
import { RedisPresence } from '../src/presence';
import type { PubsubChannels } from '../src/pubsubChannels';
import { until } from './broker-conformance';
import { member, redisNow, refreshedTwiceAfter, watcher } from './presence-helpers';
import { startRedis, type RedisServer } from './redis-server';

/**
 * Presence when Redis stalls for longer than the member TTL (`CLIENT PAUSE … ALL`: Redis answers
 * nothing, keeps its data, and the nodes' clocks run on) while every node stays alive and nobody
 * leaves. Before the fix each node's refresh timer queued a touch every `refresh` ms behind the
 * pause; the first to run after it swept every member (its own too) and the rest re-entered them
 * one join per queued touch: watchers saw every member leave, then join up to six times each.
 */
let redis: RedisServer;
let admin: ReturnType<typeof createClient>;
beforeAll(async () => {
  redis = await startRedis();
  admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await admin.connect();
});
afterAll(async () => {
  await admin?.close();
  await redis?.stop({ kill: true });
});

let namespace = 0;
const brokers: RedisBroker[] = [];
afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
});

// Members expire 1.2 s after their node's last refresh; the pause (2 s) outlasts that but not the
// keys themselves (2 × ttl), so what it tests is the members' expiry, not the keys vanishing.
const TTL = 1200;
const PAUSE = 2000;
const timing: Partial<RedisBrokerOptions> = { presence: { ttl: TTL, refresh: 300 } };

async function node(prefix: string): Promise<RedisBroker> {
  const broker = createRedisBroker({ url: redis.url, prefix, onError: () => {}, ...timing });
  brokers.push(broker);
  await broker.ready();
  return broker;
}

describe('presence across a Redis stall longer than the TTL', () => {
  it('nobody left: watchers on every node (owning or only watching) see no leave and no join', async () => {
    const prefix = `stall${++namespace}`;
    const [a, b, onlyWatching] = [await node(prefix), await node(prefix), await node(prefix)];
    const seen = [await watcher(a, 'room'), await watcher(b, 'room'), await watcher(onlyWatching, 'room')];
    await a.enterPresence('room', member('a1'));
    await b.enterPresence('room', member('b1'));
    await a.enterPresence('room', member('a2', { tab: 2 }));
    await b.enterPresence('room', member('b2', { tab: 2 }));
    await until(() => seen.every((w) => w.ids().join() === 'a1,a2,b1,b2'), 'every watcher lists all four');
    for (const w of seen) w.events.length = 0;

    expect(await admin.sendCommand(['CLIENT', 'PAUSE', String(PAUSE), 'ALL'])).toBe('OK');
    await admin.sendCommand(['PING']); // answered once the pause is over
    await refreshedTwiceAfter(admin, { prefix, channel: 'room', ttl: TTL, count: 4 }, await redisNow(admin));

    for (const w of seen) expect(w.described()).toEqual([]);
    for (const w of seen) expect(w.ids()).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect((await onlyWatching.watchPresence('room', () => {})).members.map((m) => m.clientId).sort()).toEqual(['a1', 'a2', 'b1', 'b2']);

    // Sweeping still works once the nodes touch regularly again: a node that stops refreshing
    // (what SIGKILL leaves behind) loses its members, announced once each.
    await b.close();
    const survivors = [seen[0]!, seen[2]!];
    await until(() => survivors.every((w) => w.ids().join() === 'a1,a2'), "the stopped node's members left", 15_000);
    for (const w of survivors) expect(w.described().sort()).toEqual(['leave b1', 'leave b2']);
  });
});

describe('entering again', () => {
  it('with the same info announces nothing and keeps the member; with other info, one join', async () => {
    const prefix = `again${++namespace}`;
    const [a, b] = [await node(prefix), await node(prefix)];
    const onB = await watcher(b, 'room');
    await a.enterPresence('room', member('m', { v: 1 }));
    await a.enterPresence('room', member('m', { v: 1 }));
    await a.enterPresence('room', member('m', { v: 2 }));
    await a.leavePresence('room', 'm');
    await until(() => onB.events.length >= 3 && onB.ids().length === 0, 'the leave');
    expect(onB.events).toEqual([
      { action: 'join', member: member('m', { v: 1 }) },
      { action: 'join', member: member('m', { v: 2 }) },
      { action: 'leave', member: member('m', { v: 2 }) },
    ]);
  });
});

describe('refreshes, one at a time per process', () => {
  /** Connections whose `touch` calls wait until the test lets them finish; the others answer at once. */
  function blockingRedis() {
    const touches: (() => void)[] = [];
    const connections = {
      sharded: true,
      classify: (e: unknown) => e,
      eval: (_script: unknown, _keys: readonly string[], args: readonly string[]) => {
        if (args[0] === 'enter') return Promise.resolve(1);
        if (args[0] !== 'touch') throw new Error(`unexpected ${args[0]}`);
        return new Promise((resolve) => touches.push(() => resolve(['', 0, [], Date.now(), 0])));
      },
    };
    return { connections: connections as unknown as RedisConnections, touches };
  }

  it('ticks while a touch is pending send nothing more; a refresh asked for meanwhile runs once after it', async () => {
    const { connections, touches } = blockingRedis();
    const presence = new RedisPresence(connections, {} as PubsubChannels, { prefix: 'one', database: 0, ttl: 100, refresh: 5 }, () => {});
    try {
      await presence.enter('room', member('m'));
      await until(() => touches.length === 1, 'the first tick touches');
      // Many ticks' worth of time with the touch pending: none of them touches again.
      await new Promise((r) => setTimeout(r, 200));
      expect(touches).toHaveLength(1);
      const asked = [presence.refresh(), presence.refresh()];
      expect(touches).toHaveLength(1);
      touches.shift()!();
      await until(() => touches.length === 1, 'one follow-up for both requests');
      touches.shift()!();
      await Promise.all(asked);
      expect(touches.length).toBeLessThanOrEqual(1); // at most the next tick's
    } finally {
      presence.close();
    }
  });
});

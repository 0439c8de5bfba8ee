import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@redis/client';
import type { Channel, TransportFactory } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { websocket } from '@tidewire/core/websocket';
import { injectedWebSocket } from '../../tests/test/helpers/env';
import { startServer, until, type TestServer } from '../../tests/test/helpers/servers';
import { createRedisBroker, type RedisBroker } from '../src/index';
import { redisNow, refreshedTwiceAfter } from './presence-helpers';
import { startRedis, type RedisServer } from './redis-server';

/**
 * The stall of presence-stall.test.ts seen by real clients: two server processes on one Redis,
 * members entered over each transport on both, watchers on one of them; Redis is paused for
 * longer than the members' TTL while every session stays up. The clients' `channel.presence`
 * must show no leave and no join, and still list everyone.
 */
const TTL = 1200;
const PAUSE = 2000;

let redis: RedisServer;
let admin: ReturnType<typeof createClient>;
const brokers: RedisBroker[] = [];
const servers: TestServer[] = [];
beforeAll(async () => {
  redis = await startRedis();
  admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await admin.connect();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s[Symbol.asyncDispose]()));
  await Promise.all(brokers.map((b) => b.close()));
  await admin?.close();
  await redis?.stop({ kill: true });
});

async function nodeServer(prefix: string): Promise<TestServer> {
  const broker = createRedisBroker({ url: redis.url, prefix, onError: () => {}, presence: { ttl: TTL, refresh: 300 } });
  brokers.push(broker);
  const server = await startServer({ broker, authenticate: ({ token }) => (token ? { user: token } : null), logger: { warn: () => {}, error: () => {} } });
  servers.push(server);
  return server;
}

const transports: [string, () => TransportFactory][] = [
  ['websocket', () => websocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }) })],
  ['sse', () => sse()],
  ['longpoll', () => longpoll()],
];

const users = (channel: Channel) =>
  channel.presence
    .getSnapshot()
    .members.map((m) => String(m.user))
    .sort()
    .join();

describe('presence over the wire across a Redis stall longer than the TTL', () => {
  it('clients over websocket, sse and longpoll, members on both nodes: watchers see nothing change', async () => {
    const prefix = 'wire';
    const [a, b] = [await nodeServer(prefix), await nodeServer(prefix)];
    const rooms = await Promise.all(
      transports.map(async ([name, transport]) => {
        const channel = `room-${name}`;
        const watcher = b.client({ token: 'watcher', transports: [transport()] }).channel(channel);
        const events: string[] = [];
        watcher.presence.on('join', (m) => events.push(`join ${String(m.user)}`));
        watcher.presence.on('leave', (m) => events.push(`leave ${String(m.user)}`));
        await until(() => watcher.presence.getSnapshot().state === 'synced', `the ${name} watcher is synced`);
        const members = [a.client({ token: 'on-a', transports: [transport()] }), b.client({ token: 'on-b', transports: [transport()] })];
        for (const m of members) await m.channel(channel).presence.enter({ transport: name });
        await until(() => users(watcher) === 'on-a,on-b', `the ${name} watcher lists both`);
        return { name, channel, watcher, events, members };
      }),
    );
    for (const room of rooms) room.events.length = 0;

    expect(await admin.sendCommand(['CLIENT', 'PAUSE', String(PAUSE), 'ALL'])).toBe('OK');
    await admin.sendCommand(['PING']); // answered once the pause is over
    const resumed = await redisNow(admin);
    for (const { channel } of rooms) await refreshedTwiceAfter(admin, { prefix, channel, ttl: TTL, count: 2 }, resumed);

    for (const room of rooms) {
      expect({ transport: room.name, events: room.events }).toEqual({ transport: room.name, events: [] });
      expect(users(room.watcher)).toBe('on-a,on-b');
      expect(room.members.map((m) => m.getSnapshot().state)).toEqual(['connected', 'connected']);
    }
  }, 60_000);
});

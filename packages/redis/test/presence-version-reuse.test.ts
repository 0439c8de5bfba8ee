/**
 * Presence views are synchronised by a per-channel version counter (`…:presence:v`). When Redis
 * loses the presence keys (restart without persistence, FLUSHALL, the keys' 2 × ttl expiry) the
 * counter restarts at 0. A watcher node that missed the notifications meanwhile (its link to Redis
 * was down for a moment) must not take the restarted counter's number for its own when they agree:
 * versions carry the keys' incarnation, and a pub/sub reconnect re-reads. docs/scaling.md promises
 * a view is never stale for longer than one refresh.
 */
import { expect, it } from 'vitest';
import { createServer, connect, type Socket } from 'node:net';
import { createClient } from '@redis/client';
import type { PresenceMember } from '@tidewire/core/protocol';
import { createRedisBroker } from '../src/index';
import { useRedis } from './redis-server';

const redis = useRedis();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP proxy to Redis for one node: `down()` cuts its connections and refuses new ones until `up()`. */
async function tcpProxy(target: number): Promise<{ url: string; down(): void; up(): void; close(): void }> {
  const sockets = new Set<Socket>();
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    down() {
      refusing = true;
      for (const s of sockets) s.destroy();
    },
    up() {
      refusing = false;
    },
    close() {
      refusing = true;
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

it('a watcher that missed changes while Redis lost the presence keys re-reads even if the version number matches', async () => {
  const presence = { ttl: 3000, refresh: 1000 };
  // Node W reaches Redis through a link that the test can cut (a partition of W alone).
  const link = await tcpProxy(redis.port);
  const w = createRedisBroker({ url: link.url, prefix: 'pv', presence, onError: () => {} });
  const a = createRedisBroker({ url: redis.url, prefix: 'pv', presence, onError: () => {} });
  const b = createRedisBroker({ url: redis.url, prefix: 'pv', presence, onError: () => {} });
  const admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await Promise.all([w.ready(), a.ready(), b.ready(), admin.connect()]);
  try {
    const events: string[] = [];
    const watch = await w.watchPresence('room', (e) => events.push(`${e.action} ${e.member.clientId}`));
    await a.enterPresence('room', { clientId: 'alice', user: 'alice' }); // version 1
    for (let i = 0; i < 50 && (await w.watchPresence('room', () => {})).members.length === 0; i++) await sleep(100);

    // W is cut off from Redis for a moment.
    link.down();

    // Meanwhile: node A dies, Redis loses its presence keys, and bob enters through node B (version 1 again).
    await a.close();
    await admin.sendCommand(['FLUSHALL']);
    await b.enterPresence('room', { clientId: 'bob', user: 'bob' });
    link.up();

    // Redis holds exactly bob. W may take its reconnect plus a refresh or two; allow a few
    // periods (ttl + refresh is the documented bound), then its view must be Redis's.
    const members = async () => {
      const now = await w.watchPresence('room', () => {});
      now.unsubscribe();
      return now.members.map((m: PresenceMember) => m.clientId).sort();
    };
    let ids: string[] = [];
    for (const end = Date.now() + 3 * (presence.ttl + presence.refresh); Date.now() < end; await sleep(200)) {
      ids = await members().catch(() => []);
      if (ids.length === 1 && ids[0] === 'bob') break;
    }
    expect(ids).toEqual(['bob']);
    // And W's watchers were told the difference, once each.
    expect(events).toEqual(['join alice', 'leave alice', 'join bob']);
    watch.unsubscribe();
  } finally {
    await Promise.all([w.close(), b.close(), a.close()]);
    link.close();
    await admin.close();
  }
});

import net from 'node:net';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type TidewireServer } from '@tidewire/server';
import { createRedisBroker, type RedisBroker } from '../../redis/src/index';
import { startRedis, type RedisServer } from '../../redis/test/redis-server';
import { until } from './helpers/servers';

/**
 * docs/server.md, "Bursts and memory per session": a long-poll answer the client does not take is
 * released (close grace, then the socket goes) once the client polls again or its session is gone.
 * The same must hold for a poll answered through the relay (docs/scaling.md): the relaying node
 * writes the owner's batch, and a peer that never reads, polling on fresh connections, must not pin
 * a copy of the batch there per poll. Two servers (A relays, B owns the session) on one redis-server.
 */
let redis: RedisServer;
const brokers: RedisBroker[] = [];
const servers: TidewireServer[] = [];
const ports: number[] = [];
/** The server-side sockets of A (the relaying node), in the order they were accepted. */
const socketsA: Socket[] = [];
/** The same for C, the relaying node of the pair with short long-poll timings (servers 2 and 3). */
const socketsC: Socket[] = [];
/** Servers 2 and 3: a long poll held 1 s, a session ended when not polled for 1 s + 1.5 s. */
const SHORT_POLL = { timeout: 1000, grace: 1500 };
const clientSockets: Socket[] = [];

beforeAll(async () => {
  redis = await startRedis();
  for (let i = 0; i < 4; i++) {
    const broker = createRedisBroker({ url: redis.url, prefix: i < 2 ? 'relayunread' : 'relayshort', onError: () => {} });
    brokers.push(broker);
    // A large outbox (64 MB) makes a pinned batch unmistakable: ~12 MB per unread answer.
    const transports = i < 2 ? {} : { transports: { longpoll: SHORT_POLL } };
    const server = createServer({ broker, relay: broker.sessionRelay({ nodeId: `u${i}` }), limits: { maxBufferedBytes: 64 * 1024 * 1024 }, logger: { warn() {}, error() {} }, ...transports });
    servers.push(server);
    const { port, httpServer } = await server.listen(0);
    if (i === 0) httpServer.on('connection', (s) => socketsA.push(s));
    if (i === 2) httpServer.on('connection', (s) => socketsC.push(s));
    ports.push(port);
  }
}, 30_000);

afterAll(async () => {
  for (const s of clientSockets) s.destroy();
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(brokers.map((b) => b.close()));
  await redis?.stop({ kill: true });
}, 30_000);

/** A long-poll session on B (the owner, or server `owner`) subscribed to `channel`, with ~12 MB of messages waiting for its next poll. */
async function sessionWithBigBatch(channel: string, owner = 1): Promise<{ sid: string; secret: string; ack: number }> {
  const portB = ports[owner]!;
  const { sid, secret } = (await (await fetch(`http://127.0.0.1:${portB}/tidewire/poll`, { method: 'POST' })).json()) as { sid: string; secret: string };
  const headers = { 'x-tidewire-secret': secret, 'content-type': 'application/json' };
  const frames = [JSON.stringify({ type: 'connect', v: 1 }), JSON.stringify({ type: 'subscribe', id: 's1', channel })];
  expect((await fetch(`http://127.0.0.1:${portB}/tidewire/poll?sid=${sid}`, { method: 'POST', headers, body: JSON.stringify(frames) })).status).toBe(204);
  let seen = '';
  let ack = 0;
  for (let i = 0; i < 5 && !seen.includes('"subscribed"'); i++) {
    const batch = (await (await fetch(`http://127.0.0.1:${portB}/tidewire/poll?sid=${sid}&ack=${ack}`, { headers })).json()) as { seq: number; frames: string[] };
    ack = batch.seq;
    seen += batch.frames.join('');
  }
  expect(seen).toContain('"subscribed"');
  const big = 'x'.repeat(60_000);
  for (let i = 0; i < 200; i++) await servers[owner]!.publish(channel, { i, big });
  return { sid, secret, ack };
}

/** A poll on a raw socket that never reads its answer. */
function unreadPoll(port: number, sid: string, secret: string, ack: number): void {
  const s = net.connect(port, '127.0.0.1');
  clientSockets.push(s);
  s.on('error', () => {});
  s.pause();
  s.write(`GET /tidewire/poll?sid=${encodeURIComponent(sid)}&ack=${ack} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-tidewire-secret: ${secret}\r\n\r\n`);
}

/** A's sockets still holding bytes the client did not take. */
const pinned = (from: number): Socket[] => socketsA.slice(from).filter((s) => !s.destroyed && s.writableLength > 0);

describe('a relayed long-poll answer the client never reads', () => {
  it('is released once the client polls again: at most one unread copy on the relaying node', async () => {
    const { sid, secret, ack } = await sessionWithBigBatch('unread');
    const from = socketsA.length;
    for (let i = 1; i <= 4; i++) {
      unreadPoll(ports[0]!, sid, secret, ack); // lands on A, relayed to B, answered with the unacked ~12 MB batch
      // This poll's answer is written on A and stuck there (the client does not read).
      await until(() => socketsA.length >= from + i && socketsA[from + i - 1]!.writableLength > 1_000_000, `answer ${i} written on A`, 20_000);
      // Every earlier unread answer is released (after the close grace): only this one is left.
      await until(() => pinned(from).length === 1, `earlier answers released before poll ${i + 1}`, 10_000);
    }
    expect(pinned(from)).toEqual([socketsA[from + 3]]);
    expect(socketsA.slice(from, from + 3).every((s) => s.destroyed)).toBe(true);
  }, 120_000);

  it('a DELETE relayed for the session releases its last unread answer', async () => {
    const { sid, secret, ack } = await sessionWithBigBatch('unread-delete');
    const from = socketsA.length;
    unreadPoll(ports[0]!, sid, secret, ack);
    await until(() => socketsA.length > from && socketsA[from]!.writableLength > 1_000_000, 'answer written on A', 20_000);
    const res = await fetch(`http://127.0.0.1:${ports[0]}/tidewire/poll?sid=${sid}`, { method: 'DELETE', headers: { 'x-tidewire-secret': secret } });
    expect(res.status).toBe(204);
    await until(() => socketsA[from]!.destroyed, 'the unread answer released after the session ended', 10_000);
    expect(pinned(from)).toEqual([]);
  }, 60_000);

  it('is released once the owner would have ended the session: after the configured poll timeout + grace', async () => {
    // Servers 2 (C, relays) and 3 (owns) hold a poll 1 s and end a session not polled for 1 s + 1.5 s.
    // A client that never polls again is gone then: its unread answer on C goes at that time (plus the
    // close grace), not at a fixed 10 s grace that a longer configured one would cut short.
    const { sid, secret, ack } = await sessionWithBigBatch('unread-timeout', 3);
    const from = socketsC.length;
    unreadPoll(ports[2]!, sid, secret, ack);
    await until(() => socketsC.length > from && socketsC[from]!.writableLength > 1_000_000, 'answer written on C', 20_000);
    // 2.5 s + 1 s close grace; the fixed rule (poll timeout + 10 s) would release it only after 12 s.
    await until(() => socketsC[from]!.destroyed, 'the unread answer released at poll timeout + grace', 9_000);
  }, 60_000);
});

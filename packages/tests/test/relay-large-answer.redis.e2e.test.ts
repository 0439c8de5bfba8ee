import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type TidewireServer } from '@tidewire/server';
import { createRedisBroker, type RedisBroker } from '../../redis/src/index';
import { startRedis, type RedisServer } from '../../redis/test/redis-server';
import { until } from './helpers/servers';

/**
 * Every relayed request and answer (docs/scaling.md, sticky-free HTTP transports) travels to a
 * node's inbox on that node's ONE pub/sub connection, which also carries all its channel
 * notifications and presence. Redis disconnects a pub/sub client whose output buffer passes
 * `client-output-buffer-limit pubsub` — so a large relayed body (a full history page in a poll
 * answer, a large POST of frames) must never travel as one pub/sub message: it would cut that
 * connection, never arrive, and cut it again on every retry. Two servers on one redis-server,
 * whose pub/sub limit is lowered to 4 MB hard (default 32 MB) so that a ~6 MB body shows it.
 */
let redis: RedisServer;
const brokers: RedisBroker[] = [];
const servers: TidewireServer[] = [];
const ports: number[] = [];
const errors: string[][] = [[], []];

beforeAll(async () => {
  redis = await startRedis();
  redisCli('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 4mb 2mb 60');
  for (let i = 0; i < 2; i++) {
    const broker = createRedisBroker({ url: redis.url, prefix: 'relaylarge', onError: (e) => errors[i]!.push(e.message) });
    brokers.push(broker);
    // maxPayload 2 MB: a POST may carry up to 4 × 2 MB of frames.
    const server = createServer({ broker, relay: broker.sessionRelay({ nodeId: `g${i}` }), transports: { longpoll: { timeout: 1000 } }, limits: { maxPayload: 2 * 1024 * 1024 }, logger: { warn() {}, error() {} } });
    servers.push(server);
    ports.push((await server.listen(0)).port);
  }
}, 30_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(brokers.map((b) => b.close()));
  await redis?.stop({ kill: true });
}, 30_000);

function redisCli(...args: string[]): string {
  return execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString();
}

/** The ids of Redis' pub/sub clients: a connection Redis cut comes back with a new id. */
const pubsubClientIds = (): string => redisCli('CLIENT', 'LIST', 'TYPE', 'pubsub').trim().split('\n').filter(Boolean).map((l) => /id=(\d+)/.exec(l)?.[1]).sort().join(',');

type Batch = { seq: number; frames: string[] };

/** A long-poll session on B (the owner), connected; returns the ack of its first batch. */
async function openOnB(): Promise<{ sid: string; headers: Record<string, string>; ack: number }> {
  const portB = ports[1]!;
  const { sid, secret } = (await (await fetch(`http://127.0.0.1:${portB}/tidewire/poll`, { method: 'POST' })).json()) as { sid: string; secret: string };
  const headers = { 'x-tidewire-secret': secret, 'content-type': 'application/json' };
  expect((await fetch(`http://127.0.0.1:${portB}/tidewire/poll?sid=${sid}`, { method: 'POST', headers, body: JSON.stringify([JSON.stringify({ type: 'connect', v: 1 })]) })).status).toBe(204);
  const first = (await (await fetch(`http://127.0.0.1:${portB}/tidewire/poll?sid=${sid}&ack=0`, { headers })).json()) as Batch;
  expect(first.frames.join('')).toContain('"connected"');
  return { sid, headers, ack: first.seq };
}

/** Poll `port` until a frame matching `match` arrives; every frame seen, parsed. */
async function pollUntil(port: number, sid: string, headers: Record<string, string>, ack: number, match: (frame: Record<string, unknown>) => boolean): Promise<Record<string, unknown>[]> {
  const seen: Record<string, unknown>[] = [];
  for (let i = 0; i < 20 && !seen.some(match); i++) {
    const res = await fetch(`http://127.0.0.1:${port}/tidewire/poll?sid=${sid}&ack=${ack}`, { headers });
    expect(res.status).toBe(200);
    const batch = (await res.json()) as Batch;
    ack = batch.seq;
    seen.push(...batch.frames.map((f) => JSON.parse(f) as Record<string, unknown>));
  }
  return seen;
}

describe('a relayed body larger than the pub/sub output buffer', () => {
  it('a poll answer (a ~6.5 MB history page) arrives whole, and the relaying node keeps its pub/sub connection', async () => {
    const big = 'x'.repeat(45_000);
    for (let i = 0; i < 150; i++) await servers[1]!.publish('dump', { i, big });
    const { sid, headers, ack } = await openOnB();
    const before = pubsubClientIds();
    // The history request goes to B; its answer is taken by polls sent to A (relayed to B and back).
    expect((await fetch(`http://127.0.0.1:${ports[1]}/tidewire/poll?sid=${sid}`, { method: 'POST', headers, body: JSON.stringify([JSON.stringify({ type: 'history', id: 'h', channel: 'dump', limit: 1000 })]) })).status).toBe(204);
    const frames = await pollUntil(ports[0]!, sid, headers, ack, (f) => f.id === 'h');
    const page = frames.find((f) => f.id === 'h') as { messages?: { data: { i: number; big: string } }[] } | undefined;
    expect(page?.messages?.map((m) => m.data.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i));
    expect(page?.messages?.every((m) => m.data.big === big)).toBe(true);
    expect(pubsubClientIds()).toBe(before); // nobody's pub/sub connection was cut
    expect(errors).toEqual([[], []]);
    // And A's pub/sub connection still carries live messages from B.
    const live: number[] = [];
    await servers[0]!.subscribe('news', (m) => live.push(m.data as number));
    await servers[1]!.publish('news', 1);
    await until(() => live.includes(1), 'live news on A');
    expect(pubsubClientIds()).toBe(before);
  }, 120_000);

  it('a POST of ~6 MB of frames relayed to the owner is taken whole, and the owner keeps its pub/sub connection', async () => {
    const { sid, headers, ack } = await openOnB();
    const before = pubsubClientIds();
    // 4 publishes of 1.5 MB to a channel nobody subscribes (their notifications reach no pub/sub client).
    const data = 'y'.repeat(1_500_000);
    const frames = [0, 1, 2, 3].map((i) => JSON.stringify({ type: 'publish', id: `p${i}`, channel: 'upload', data }));
    const res = await fetch(`http://127.0.0.1:${ports[0]}/tidewire/poll?sid=${sid}`, { method: 'POST', headers, body: JSON.stringify(frames) });
    expect(res.status).toBe(204);
    const acks = (await pollAcks(sid, headers, ack)).sort();
    expect(acks).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(pubsubClientIds()).toBe(before);
    expect(errors).toEqual([[], []]);
  }, 120_000);
});

/** Poll B directly until the acks of p0..p3 have arrived; their ids. */
async function pollAcks(sid: string, headers: Record<string, string>, ack: number): Promise<string[]> {
  const acked: string[] = [];
  for (let i = 0; i < 20 && acked.length < 4; i++) {
    const batch = (await (await fetch(`http://127.0.0.1:${ports[1]}/tidewire/poll?sid=${sid}&ack=${ack}`, { headers })).json()) as Batch;
    ack = batch.seq;
    for (const f of batch.frames.map((t) => JSON.parse(t) as { type: string; id?: string })) if (f.type === 'ack' && f.id) acked.push(f.id);
  }
  return acked;
}

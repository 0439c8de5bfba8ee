import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayedRequest } from '@tidewire/server';
import { createRedisBroker, type RedisBroker } from '../src/index';
import { startRedis, type RedisServer } from './redis-server';

/**
 * The Redis session relay between two brokers ("processes") on one Redis, with both kinds of
 * pub/sub: sharded (SPUBLISH / SHARDNUMSUB, Redis ≥ 7) and classic (PUBLISH / NUMSUB).
 */
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop({ kill: true }));

const brokers: RedisBroker[] = [];
afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
});

let namespace = 0;
async function node(prefix: string, pubsub: 'sharded' | 'classic'): Promise<RedisBroker> {
  const broker = createRedisBroker({ url: redis.url, prefix, pubsub, onError: () => {} });
  brokers.push(broker);
  await broker.ready();
  return broker;
}

const request = (body: string): RelayedRequest => ({ method: 'POST', url: '/tidewire/poll?sid=x.y', headers: { 'x-tidewire-secret': 's' }, body });

describe.each(['sharded', 'classic'] as const)('Redis session relay over %s pub/sub', (pubsub) => {
  it('carries a request to the owner and its answer back, many at once, each to its own caller', async () => {
    const prefix = `relay${++namespace}`;
    const [a, b] = [await node(prefix, pubsub), await node(prefix, pubsub)];
    const owner = a.sessionRelay({ nodeId: 'owner' });
    const seen: RelayedRequest[] = [];
    owner.serve(async (r) => {
      seen.push(r);
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: `echo ${r.body}` };
    });
    const sender = b.sessionRelay();
    expect(sender.nodeId).toMatch(/^[A-Za-z0-9_-]+$/);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => sender.forward('owner', request(String(i)), 10_000)));
    expect(answers.map((x) => x?.body)).toEqual(Array.from({ length: 20 }, (_, i) => `echo ${i}`));
    expect(answers[0]).toMatchObject({ status: 200, headers: { 'content-type': 'text/plain' } });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/tidewire/poll?sid=x.y', headers: { 'x-tidewire-secret': 's' } });
  }, 30_000);

  it('answers undefined at once for a node nobody runs', async () => {
    const prefix = `relay${++namespace}`;
    const sender = (await node(prefix, pubsub)).sessionRelay();
    // A 60 s timeout: only the receiver count (0) can settle this within the test's deadline.
    expect(await sender.forward('nobody', request(''), 60_000)).toBeUndefined();
  }, 30_000);

  it('answers undefined when the owner goes away while a request waits for it', async () => {
    const prefix = `relay${++namespace}`;
    const [a, b] = [await node(prefix, pubsub), await node(prefix, pubsub)];
    const owner = a.sessionRelay({ nodeId: 'holder' });
    let received = false;
    owner.serve(() => {
      received = true;
      return new Promise(() => {}); // a held poll that is never answered
    });
    const waiting = b.sessionRelay().forward('holder', request(''), 60_000);
    await expect.poll(() => received, { timeout: 10_000 }).toBe(true);
    await a.close(); // its subscriptions leave Redis, as a killed process's do
    expect(await waiting).toBeUndefined();
  }, 30_000);

  it('hands a request and an answer over 512 KiB off through a key (never one large pub/sub message), whole, and leaves no key behind', async () => {
    const prefix = `relay${++namespace}`;
    const [a, b] = [await node(prefix, pubsub), await node(prefix, pubsub)];
    const owner = a.sessionRelay({ nodeId: 'big' });
    owner.serve(async (r) => ({ status: 200, headers: {}, body: r.body === 'small' ? 'small' : `${r.body.length}:${'z'.repeat(3_000_000)}` }));
    const sender = b.sessionRelay();
    expect((await sender.forward('big', request('small'), 10_000))?.body).toBe('small'); // both inboxes listen
    // Redis cuts a pub/sub client whose output buffer passes 1 MB: any message of ~2-3 MB would cut both nodes.
    redisCli('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 1mb 1mb 60');
    try {
      const before = pubsubClientIds();
      const answer = await sender.forward('big', request('y'.repeat(2_000_000)), 10_000);
      expect(answer?.body).toBe(`2000000:${'z'.repeat(3_000_000)}`);
      expect(pubsubClientIds()).toBe(before);
      await expect.poll(() => redisCli('KEYS', `${prefix}:*handoff*`).trim(), { timeout: 5000 }).toBe(''); // read once, then deleted
    } finally {
      redisCli('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');
    }
  }, 30_000);

  it('follows a handoff only to a key under its own handoff prefix (junk on the inbox reads or deletes nothing else)', async () => {
    const prefix = `relay${++namespace}`;
    const a = await node(prefix, pubsub);
    let served = 0;
    a.sessionRelay({ nodeId: 'target' }).serve(async () => {
      served++;
      return { status: 204, headers: {}, body: '' };
    });
    const envelope = JSON.stringify({ t: 'q', id: 'x', from: 'nobody', request: request('') });
    redisCli('SET', `${prefix}:other`, envelope);
    const inbox = `${prefix}:{node:target}:inbox`;
    await expect.poll(() => Number(redisCli(pubsub === 'sharded' ? 'SPUBLISH' : 'PUBLISH', inbox, JSON.stringify({ t: 'k', key: `${prefix}:other` }))), { timeout: 5000 }).toBe(1);
    // A real handoff on the same inbox after the junk: once it is served, the junk has been handled too.
    redisCli('SET', `${prefix}:{node:target}:handoff:ok`, envelope);
    redisCli(pubsub === 'sharded' ? 'SPUBLISH' : 'PUBLISH', inbox, JSON.stringify({ t: 'k', key: `${prefix}:{node:target}:handoff:ok` }));
    await expect.poll(() => served, { timeout: 5000 }).toBe(1);
    expect(redisCli('GET', `${prefix}:other`).trim()).toBe(envelope);
  }, 30_000);

  it('refuses a nodeId that could not be told apart in a sid', async () => {
    const broker = await node(`relay${++namespace}`, pubsub);
    expect(() => broker.sessionRelay({ nodeId: 'a.b' })).toThrow(expect.objectContaining({ name: 'RedisBrokerError', code: 'invalid_options' }));
  });
});

function redisCli(...args: string[]): string {
  return execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString();
}

/** The ids of Redis' pub/sub clients: a connection Redis cut comes back with a new id. */
const pubsubClientIds = (): string => redisCli('CLIENT', 'LIST', 'TYPE', 'pubsub').trim().split('\n').filter(Boolean).map((l) => /id=(\d+)/.exec(l)?.[1]).sort().join(',');

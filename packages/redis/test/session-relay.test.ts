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

  it('refuses a nodeId that could not be told apart in a sid', async () => {
    const broker = await node(`relay${++namespace}`, pubsub);
    expect(() => broker.sessionRelay({ nodeId: 'a.b' })).toThrow(expect.objectContaining({ name: 'RedisBrokerError', code: 'invalid_options' }));
  });
});

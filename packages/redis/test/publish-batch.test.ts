import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@redis/client';
import { createRedisBroker, type RedisBroker } from '../src/index';
import { startRedis, type RedisServer } from './redis-server';
import { decodePublishReply } from '../src/codec';
import { channelKeys } from '../src/keys';
import { PUBLISH_BATCH_SCRIPT } from '../src/scripts';

/** A burst of publishes to one channel from one process leaves as few script calls, not one each. */
let redis: RedisServer;
let broker: RedisBroker;
beforeAll(async () => {
  redis = await startRedis();
  broker = createRedisBroker({ url: redis.url, prefix: 'batch', onError: () => {} });
  await broker.ready();
});
afterAll(async () => {
  await broker?.close();
  await redis?.stop({ kill: true });
});

/** Script calls Redis has run so far (EVALSHA, and EVAL after a NOSCRIPT). */
async function scriptCalls(): Promise<number> {
  const client = createClient({ url: redis.url });
  await client.connect();
  try {
    const info = String(await client.sendCommand(['INFO', 'commandstats']));
    return [...info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  } finally {
    await client.close();
  }
}

describe('publish batching', () => {
  it('200 publishes in one burst: offsets 1…200 in call order, in far fewer script calls', async () => {
    await broker.publish('warm', { id: 'w', data: 0 }); // scripts loaded
    const before = await scriptCalls();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => broker.publish('burst', { id: `m${i}`, data: i })));
    const calls = (await scriptCalls()) - before;
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(results.every((r) => !r.duplicate && r.epoch === results[0]!.epoch)).toBe(true);
    expect(calls).toBeLessThanOrEqual(200 / 64 + 1); // ≤ 64 per call
    expect(calls).toBeGreaterThanOrEqual(1);
  });

  it('keeps call order with several calls in flight, also when Redis lost its script cache (SCRIPT FLUSH)', async () => {
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await admin.sendCommand(['SCRIPT', 'FLUSH']);
    } finally {
      await admin.close();
    }
    // More than MAX_BATCH × MAX_CALLS_IN_FLIGHT, over two ticks: calls queue behind calls in flight.
    const first = Array.from({ length: 300 }, (_, i) => broker.publish('flushed', { id: `f${i}`, data: i }));
    await Promise.resolve();
    const second = Array.from({ length: 100 }, (_, i) => broker.publish('flushed', { id: `g${i}`, data: 300 + i }));
    const results = await Promise.all([...first, ...second]);
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    const stored = await broker.history('flushed', { limit: 400, direction: 'forward' });
    expect(stored.messages.map((m) => m.data)).toEqual(Array.from({ length: 400 }, (_, i) => i));
  });

  it('the same id twice in one burst is stored once: the second gets the first position, marked duplicate', async () => {
    const [a, b, c] = await Promise.all([
      broker.publish('dupes', { id: 'same', data: 1 }),
      broker.publish('dupes', { id: 'same', data: 1 }),
      broker.publish('dupes', { id: 'other', data: 2 }),
    ]);
    expect(a).toMatchObject({ offset: 1, duplicate: false });
    expect(b).toMatchObject({ offset: 1, duplicate: true, epoch: a!.epoch });
    expect(c).toMatchObject({ offset: 2, duplicate: false });
  });

  it('bursts on different channels do not wait for each other and keep their own offsets', async () => {
    const [x, y] = await Promise.all([
      Promise.all(Array.from({ length: 30 }, (_, i) => broker.publish('x', { id: `x${i}`, data: i }))),
      Promise.all(Array.from({ length: 30 }, (_, i) => broker.publish('y', { id: `y${i}`, data: i }))),
    ]);
    expect(x.map((r) => r.offset)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(y.map((r) => r.offset)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });
  it('dedupes alike with SET … NX GET (Redis ≥ 7.0) and with GET then SET (older servers)', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      // The same calls through the script, once per dedupe mode: ids repeat within a call and across calls.
      const run = async (setGet: '1' | '0') => {
        const keys = channelKeys('modes', `dedupe${setGet}`);
        const call = async (ids: string[]) =>
          (await client.sendCommand([
            'EVAL',
            PUBLISH_BATCH_SCRIPT,
            String(2 + ids.length),
            keys.meta,
            keys.stream,
            ...ids.map((id) => keys.dedupe(id)),
            'epoch' + setGet,
            '100',
            '60000',
            '60000',
            '60000',
            keys.notify,
            'SPUBLISH',
            setGet,
            ...ids.flatMap((id) => [JSON.stringify([id, id]), id.startsWith('fresh') ? '1' : '0']),
          ])) as unknown[];
        const replies = [await call(['a', 'b', 'a', 'fresh1']), await call(['b', 'c', 'fresh2', 'c']), await call(['a', 'c'])];
        return replies.map((r, i) => decodePublishReply(r, [4, 4, 2][i]!).map(({ epoch, offset, duplicate }) => [epoch.replace('epoch' + setGet, 'E'), offset, duplicate]));
      };
      const withSetGet = await run('1');
      expect(withSetGet).toEqual([
        [['E', 1, false], ['E', 2, false], ['E', 1, true], ['E', 3, false]],
        [['E', 2, true], ['E', 4, false], ['E', 5, false], ['E', 4, true]],
        [['E', 1, true], ['E', 4, true]],
      ]);
      expect(await run('0')).toEqual(withSetGet);
    } finally {
      await client.close();
    }
  });
});

/**
 * A history page is bounded in bytes (HISTORY_PAGE_BYTES, the memory broker's 8 MiB history bound):
 * without it, a few pages of a channel of big messages made one history script run copy tens of MB
 * and stall Redis for every node. A page cut by the bound says `more`, so the reader reads on.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisBroker } from '../src/index';
import { HISTORY_PAGE_BYTES } from '../src/redisBroker';
import { startRedis, type RedisServer } from './redis-server';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop({ kill: true });
});

it('cuts a page at the byte bound, says more, and the next page reads on with nothing lost', async () => {
  const broker = createRedisBroker({ url: redis.url, prefix: 'hb', onError: () => {} });
  try {
    const big = 'x'.repeat(Math.floor(HISTORY_PAGE_BYTES / 3));
    for (let i = 1; i <= 5; i++) await broker.publish('big', { id: `m${i}`, data: big });
    const seen: number[] = [];
    for (const direction of ['forward', 'backward'] as const) {
      seen.length = 0;
      let after = 0;
      let before: number | undefined;
      for (let page = 0; page < 10; page++) {
        const result = await broker.history('big', { limit: 100, direction, after, before });
        expect(result.messages.length).toBeGreaterThan(0);
        expect(result.messages.reduce((n, m) => n + JSON.stringify(m.data).length, 0)).toBeLessThanOrEqual(HISTORY_PAGE_BYTES);
        seen.push(...result.messages.map((m) => m.offset));
        if (!result.more) break;
        if (direction === 'forward') after = result.messages.at(-1)!.offset;
        else before = result.messages.at(-1)!.offset;
      }
      expect(seen.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    }
    const first = await broker.history('big', { limit: 100, direction: 'forward' });
    expect(first).toMatchObject({ more: true });
    expect(first.messages.length).toBeLessThan(5);
  } finally {
    await broker.close();
  }
});

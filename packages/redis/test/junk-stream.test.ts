/**
 * One stream entry whose body is not `[id, data]` JSON (written by another process, or a
 * corrupted restore) wedges the channel for good instead of being treated as a missing offset:
 * - every resume that covers it fails `broker_unavailable` (a SyntaxError classified as "Redis
 *   unavailable"), so a recovering client retries forever and never gets its typed gap;
 * - a node's feed that must fill across it retries the fill every 250 ms forever, delivers no
 *   later message of the channel, and keeps every later notification in its inbox (unbounded).
 */
import { expect, it } from 'vitest';
import { createClient } from '@redis/client';
import { createRedisBroker, isRedisBrokerError } from '../src/index';
import { eventually, useRedis } from './redis-server';

const redis = useRedis();
const until = (check: () => boolean): Promise<boolean> => eventually(check, 8_000);


/** Another writer appends one entry at the next offset whose body is not a Tidewire body. */
async function appendGarbage(url: string, prefix: string, channel: string): Promise<void> {
  const admin = createClient({ url });
  admin.on('error', () => {});
  await admin.connect();
  const head = Number(await admin.hGet(`${prefix}:{${channel}}:meta`, 's'));
  await admin.sendCommand(['XADD', `${prefix}:{${channel}}:stream`, `${head + 1}-0`, 't', String(Date.now()), 'b', '{not json']);
  await admin.hSet(`${prefix}:{${channel}}:meta`, 's', String(head + 1));
  await admin.close();
}

it('live delivery goes on past an undecodable stream entry (skipped like a trimmed one)', async () => {
  const a = createRedisBroker({ url: redis.url, prefix: 's', onError: () => {} });
  const b = createRedisBroker({ url: redis.url, prefix: 's', onError: () => {} });
  try {
    const got: number[] = [];
    const sub = await a.subscribe('c', undefined, (m) => got.push(m.offset));
    await b.publish('c', { id: 'm1', data: 1 }); // offset 1
    expect(await until(() => got.length === 1)).toBe(true);
    await appendGarbage(redis.url, 's', 'c'); // offset 2, no notification (as if it was lost)
    for (let i = 3; i <= 6; i++) await b.publish('c', { id: `m${i}`, data: i }); // offsets 3..6
    // Expected: 3..6 delivered (2 skipped: the client sees the jump and gets a typed gap).
    // Observed: nothing after offset 1, ever (the fill throws SyntaxError and is retried every 250 ms).
    expect(await until(() => got.includes(6))).toBe(true);
    sub.unsubscribe();
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

it('a resume across an undecodable entry answers (recovered: false), not broker_unavailable', async () => {
  const a = createRedisBroker({ url: redis.url, prefix: 't', onError: () => {} });
  try {
    const first = await a.publish('c', { id: 'm1', data: 1 });
    await appendGarbage(redis.url, 't', 'c');
    await a.publish('c', { id: 'm3', data: 3 });
    let error: unknown;
    const sub = await a.subscribe('c', { epoch: first.epoch, offset: 1 }, () => {}).catch((e: unknown) => {
      error = e;
      return undefined;
    });
    // Observed: RedisBrokerError broker_unavailable "Redis unavailable: Unexpected token…" on every try.
    expect(isRedisBrokerError(error) && error.code === 'broker_unavailable').toBe(false);
    expect(sub).toBeDefined();
    sub?.unsubscribe();
  } finally {
    await a.close();
  }
});

/**
 * One malformed pub/sub payload on a Tidewire notify channel (written by another process sharing
 * the Redis) throws inside node-redis's push handler; node-redis's RESP decoder is left corrupted
 * and the broker's ONE pub/sub connection never delivers anything again — for every channel
 * (and presence, and the session relay inbox) on that node. No reconnect, no gap: silent loss.
 */
import { expect, it } from 'vitest';
import { createClient } from '@redis/client';
import { createRedisBroker } from '../src/index';
import { eventually as until, useRedis } from './redis-server';

const redis = useRedis();


it('a malformed notification on one channel does not stop live delivery of other channels on that node', async () => {
  const broker = createRedisBroker({ url: redis.url, prefix: 'g', onError: () => {} });
  const admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await admin.connect();
  try {
    const onB: unknown[] = [];
    const subA = await broker.subscribe('a', undefined, () => {});
    const subB = await broker.subscribe('b', undefined, (m) => onB.push(m.data));
    await broker.publish('b', { id: 'b1', data: 1 });
    expect(await until(() => onB.length === 1)).toBe(true);

    // Another process writes a well-framed but wrong-typed payload to channel a's notify channel
    // (`*<first>:<last>:<epoch>:[<body>]` with a body that is not `[id, data]`).
    await admin.sendCommand(['SPUBLISH', 'g:{a}:notify', '*9:9:someepoch:[1]']);

    await broker.publish('b', { id: 'b2', data: 2 });
    await broker.publish('b', { id: 'b3', data: 3 });
    // Expected: channel b is untouched by garbage on channel a. Observed: nothing more arrives, ever.
    expect(await until(() => onB.length === 3)).toBe(true);
    expect(onB).toEqual([1, 2, 3]);
    subA.unsubscribe();
    subB.unsubscribe();
  } finally {
    await broker.close();
    await admin.close();
  }
});

it('a JSON `null` on a node\'s relay inbox does not stop live delivery on that node', async () => {
  const broker = createRedisBroker({ url: redis.url, prefix: 'h', onError: () => {} });
  const relay = broker.sessionRelay({ nodeId: 'n1' });
  const admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await admin.connect();
  try {
    const got: unknown[] = [];
    const sub = await broker.subscribe('c', undefined, (m) => got.push(m.data));
    // wait until the relay's inbox is subscribed
    expect(await until(() => false, 300)).toBe(false);
    await admin.sendCommand(['SPUBLISH', 'h:{node:n1}:inbox', 'null']);
    await broker.publish('c', { id: 'c1', data: 1 });
    expect(await until(() => got.length === 1)).toBe(true);
    sub.unsubscribe();
    void relay;
  } finally {
    await broker.close();
    await admin.close();
  }
});

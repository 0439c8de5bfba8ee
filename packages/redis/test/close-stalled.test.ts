import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createRedisBroker, type RedisBroker } from '../src/index';
import { startRedis } from './redis-server';

/**
 * close() must end even when Redis stops answering with commands in flight: node-redis's own close
 * waits for the reply that empties its queue, and a Redis that died or stalled never sends it. A
 * server shutting down (or a test's afterAll) would then hang for good.
 */
const HUNG = Symbol('hung');
/** close() within a bound far above commandTimeout, or HUNG: an outcome, not a timing. */
const closed = (broker: RedisBroker): Promise<void | typeof HUNG> =>
  Promise.race([broker.close(), new Promise<typeof HUNG>((r) => setTimeout(() => r(HUNG), 20_000).unref())]);

/** This process's open TCP sockets to `port` (Node's handle list: the sockets that keep a process alive). */
const socketsTo = (port: number): Socket[] =>
  (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h): h is Socket => h instanceof Socket && h.remotePort === port && !h.destroyed);

describe('closing a broker whose Redis stopped answering', () => {
  it('ends when Redis is killed while a publish is in flight and close() is waiting for it', async () => {
    await using redis = await startRedis();
    const broker = createRedisBroker({ url: redis.url, prefix: 'k', commandTimeout: 500, onError: () => {} });
    await broker.ready();
    await broker.watchPresence('room', () => {}); // the subscriber connection has a subscription too
    redis.pause();
    const publish = broker.publish('room', { id: 'p1', data: 1 }).catch((e: unknown) => e); // may settle before it is awaited
    await new Promise((r) => setTimeout(r, 100)); // the publish is on the wire (publishes are batched)
    const closing = closed(broker); // waits for the publish's reply
    await new Promise((r) => setTimeout(r, 100));
    await redis.stop({ kill: true }); // SIGCONT then SIGKILL: Redis may still answer the publish in between
    expect(await closing).toBeUndefined();
    const settled = await publish;
    expect(settled).toSatisfy((p: unknown) => (p as { code?: string }).code === 'broker_unavailable' || (p as { offset?: number }).offset === 1);
  }, 30_000);

  it('ends while Redis stays stalled, and the command in flight is answered broker_unavailable', async () => {
    await using redis = await startRedis();
    const broker = createRedisBroker({ url: redis.url, prefix: 's', commandTimeout: 500, onError: () => {} });
    await broker.ready();
    redis.pause();
    const publish = broker.publish('room', { id: 'p1', data: 1 }).catch((e: unknown) => e); // may settle before it is awaited
    await new Promise((r) => setTimeout(r, 100)); // the publish is on the wire (publishes are batched)
    expect(await closed(broker)).toBeUndefined();
    expect(await publish).toMatchObject({ code: 'broker_unavailable' });
    redis.resume();
  }, 30_000);

  it('ends when Redis stalls while the broker is still connecting', async () => {
    await using redis = await startRedis();
    redis.pause(); // TCP still accepts (the kernel does), Redis never answers the first INFO
    const broker = createRedisBroker({ url: redis.url, prefix: 'c', commandTimeout: 500, onError: () => {} });
    const ready = broker.ready();
    await new Promise((r) => setTimeout(r, 200));
    expect(await closed(broker)).toBeUndefined();
    await expect(ready).rejects.toMatchObject({ code: 'closed' });
    redis.resume();
  }, 30_000);
  it('leaves no socket open to a Redis that stays stalled (a process waiting to exit would wait for Redis)', async () => {
    await using redis = await startRedis();
    const broker = createRedisBroker({ url: redis.url, prefix: 'x', commandTimeout: 500, onError: () => {} });
    await broker.ready();
    await broker.watchPresence('room', () => {}); // the pub/sub connection is in subscribed mode
    expect(socketsTo(redis.port)).toHaveLength(2);
    redis.pause();
    const publish = broker.publish('room', { id: 'p1', data: 1 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100)); // the publish is on the wire
    expect(await closed(broker)).toBeUndefined();
    await publish;
    expect(socketsTo(redis.port)).toEqual([]);
    redis.resume();
  }, 30_000);

  it('closes gracefully when Redis answers: both connections end, nothing in flight is cut', async () => {
    await using redis = await startRedis();
    const broker = createRedisBroker({ url: redis.url, prefix: 'g', onError: () => {} });
    await broker.watchPresence('room', () => {});
    const stored = broker.publish('room', { id: 'p1', data: 1 });
    await new Promise((r) => setTimeout(r, 50)); // on the wire (a publish still batched when close() comes is rejected `closed`)
    await broker.close();
    expect(await stored).toMatchObject({ offset: 1 });
    expect(socketsTo(redis.port)).toEqual([]);
  }, 30_000);
});

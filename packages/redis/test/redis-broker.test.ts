import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '@redis/client';
import type { BrokerMessage } from '@tidewire/server';
import { createRedisBroker, isRedisBrokerError, type RedisBroker, type RedisBrokerOptions } from '../src/index';
import { RANGE_SCRIPT } from '../src/scripts';
import { until } from './broker-conformance';
import { useRedisNodes } from './redis-nodes';
import { startRedis } from './redis-server';

const nodes = useRedisNodes();
let namespace = 0;
/** Brokers made directly (on their own client or server), closed after the file. */
const brokers: RedisBroker[] = [];
afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
});
/** A broker ("a server process") on the shared Redis; same `prefix` = same cluster. */
const node = (prefix: string, options?: Partial<RedisBrokerOptions>) => nodes.node(prefix, options);

/** A plain client for looking at Redis from the outside. */
async function inspector() {
  const client = createClient({ url: nodes.redis().url });
  client.on('error', () => {});
  await client.connect();
  return client;
}

describe('Redis broker across processes', () => {
  it('shares offsets, live delivery and dedupe between nodes', async () => {
    const prefix = `multi${++namespace}`;
    const [a, b] = [await node(prefix), await node(prefix)];
    const onB: BrokerMessage[] = [];
    await b.subscribe('room', undefined, (m) => onB.push(m));
    const first = await a.publish('room', { id: 'x1', data: 'from a' });
    const second = await b.publish('room', { id: 'x2', data: 'from b' });
    const retried = await b.publish('room', { id: 'x1', data: 'from a, retried on b' });
    expect([first.offset, second.offset]).toEqual([1, 2]);
    expect(second.epoch).toBe(first.epoch);
    expect(retried).toEqual({ ...first, duplicate: true });
    await until(() => onB.length === 2, 'b receives both');
    expect(onB.map((m) => [m.offset, m.data])).toEqual([
      [1, 'from a'],
      [2, 'from b'],
    ]);
  });

  it('keeps the epoch when a node restarts, so a client moving nodes recovers', async () => {
    const prefix = `restart${++namespace}`;
    const before = await node(prefix);
    let last = { epoch: '', offset: 0 };
    for (let i = 1; i <= 5; i++) last = await before.publish('news', { id: `n${i}`, data: i });
    await before.close();
    const after = await node(prefix);
    await after.publish('news', { id: 'n6', data: 6 });
    const sub = await after.subscribe('news', { epoch: last.epoch, offset: 3 }, () => {});
    expect(sub).toMatchObject({ epoch: last.epoch, offset: 3, recovered: true });
    expect(sub.replay.map((m) => m.data)).toEqual([4, 5, 6]);
  });

  it('starts a new epoch only when the metadata is really gone (expired or flushed)', async () => {
    const prefix = `epoch${++namespace}`;
    const broker = await node(prefix, { metaTtl: 300, history: { ttl: 300 } });
    const old = await broker.publish('short', { id: 'a', data: 1 });
    const kept = await broker.publish('short', { id: 'b', data: 2 });
    expect(kept.epoch).toBe(old.epoch);
    const redisClient = await inspector();
    // Let the metadata expire (Redis expires keys on its own clock).
    const start = Date.now();
    while ((await redisClient.exists(`${prefix}:{short}:meta`)) === 1 && Date.now() - start < 10_000) await new Promise((r) => setTimeout(r, 50));
    const renewed = await broker.publish('short', { id: 'c', data: 3 });
    expect(renewed.epoch).not.toBe(old.epoch);
    expect(renewed.offset).toBe(1);
    const sub = await broker.subscribe('short', { epoch: old.epoch, offset: 2 }, () => {});
    expect(sub).toMatchObject({ epoch: renewed.epoch, offset: 1, recovered: false });
    await redisClient.close();
  });

  it("a range read for an epoch that is gone returns nothing, never the new epoch's messages at those offsets", async () => {
    // A feed reads the head, then the range it misses; a flush (and publishes of the new epoch) between
    // the two must not hand it the new epoch's offset 2 as the old epoch's (a lost message replaced).
    const prefix = `range${++namespace}`;
    const broker = await node(prefix);
    const old = await broker.publish('ch', { id: 'a1', data: 'old 1' });
    await broker.publish('ch', { id: 'a2', data: 'old 2' });
    const admin = await inspector();
    await admin.del([`${prefix}:{ch}:meta`, `${prefix}:{ch}:stream`]); // the metadata lost (a flush, an eviction)
    const renewed = await broker.publish('ch', { id: 'b1', data: 'new 1' });
    await broker.publish('ch', { id: 'b2', data: 'new 2' });
    expect(renewed.epoch).not.toBe(old.epoch);
    const range = (epoch: string) =>
      admin.eval(RANGE_SCRIPT, { keys: [`${prefix}:{ch}:meta`, `${prefix}:{ch}:stream`], arguments: ['1', '2', '1000', '300000', epoch] }) as Promise<unknown[]>;
    expect(await range(old.epoch)).toEqual([]);
    expect(await range(renewed.epoch)).toHaveLength(2);
    await admin.close();
  });

  it('reads nothing older than history.ttl back, on every read path, after a burst and a quiet spell', async () => {
    // A burst of 30, then (while the stream is kept alive) past the TTL: the trim a publish makes
    // used to reach 8 aged entries, and history pages, `recent` and resumes read the other 22 back.
    const TTL = 2000;
    const prefix = `burst${++namespace}`;
    const broker = await node(prefix, { history: { ttl: TTL } });
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => broker.publish('ch', { id: `old${i}`, data: `old${i}` })));
    const { epoch } = burst[0]!;
    const burstEnd = Date.now();
    await new Promise((r) => setTimeout(r, TTL * 0.6));
    await broker.publish('ch', { id: 'keepalive', data: 'keepalive' }); // keeps the stream key (its TTL) alive
    await new Promise((r) => setTimeout(r, Math.max(0, burstEnd + TTL * 1.2 - Date.now())));
    const fresh = await broker.publish('ch', { id: 'fresh', data: 'fresh' });
    const aged = (messages: readonly BrokerMessage[]) => messages.map((m) => m.data).filter((d) => String(d).startsWith('old'));
    // History pages, both directions (the `recent` of a subscribe is one backward page).
    const forward = await broker.history!('ch', { limit: 100, direction: 'forward' });
    const backward = await broker.history!('ch', { limit: 100, direction: 'backward' });
    expect(aged(forward.messages)).toEqual([]);
    expect(aged(backward.messages)).toEqual([]);
    expect(forward.messages.at(-1)?.data).toBe('fresh');
    expect(backward.messages[0]?.data).toBe('fresh');
    // A resume from inside the burst: its messages are gone, so it is not recovered (no partial replay).
    const resumed = await broker.subscribe('ch', { epoch, offset: 10 }, () => {});
    expect(resumed).toMatchObject({ epoch, offset: fresh.offset, recovered: false, replay: [] });
    // A resume from just before the burst's end: the same.
    const late = await broker.subscribe('ch', { epoch, offset: 29 }, () => {});
    expect(late).toMatchObject({ recovered: false, replay: [] });
  });

  it('a history page in the middle of a stream with aged entries still holds `limit` messages and says whether more remain', async () => {
    const TTL = 3000; // the new messages are 0.75 TTL old when read: young, and their stream key still alive
    const prefix = `page${++namespace}`;
    const broker = await node(prefix, { history: { ttl: TTL } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => broker.publish('ch', { id: `old${i}`, data: `old${i}` })));
    const burstEnd = Date.now();
    await new Promise((r) => setTimeout(r, TTL * 0.4));
    for (let i = 0; i < 6; i++) await broker.publish('ch', { id: `new${i}`, data: `new${i}` });
    await new Promise((r) => setTimeout(r, Math.max(0, burstEnd + TTL * 1.15 - Date.now())));
    // Oldest first, 4 at a time: the first page starts at the first young message, not among the aged ones.
    const first = await broker.history!('ch', { limit: 4, direction: 'forward' });
    expect(first.messages.map((m) => m.data)).toEqual(['new0', 'new1', 'new2', 'new3']);
    expect(first.more).toBe(true);
    const second = await broker.history!('ch', { limit: 4, direction: 'forward', after: first.messages.at(-1)!.offset });
    expect(second.messages.map((m) => m.data)).toEqual(['new4', 'new5']);
    expect(second.more).toBe(false);
  });

  it('drops history older than history.ttl: trimmed while the channel is busy, expired when it is idle', async () => {
    const prefix = `aged${++namespace}`;
    const broker = await node(prefix, { history: { ttl: 400 } });
    const first = await broker.publish('busy', { id: '1', data: 1 });
    const started = Date.now();
    let last = first;
    // Keep publishing (which keeps the stream alive) until the first message is past its TTL.
    while (Date.now() - started < 600) {
      last = await broker.publish('busy', { id: String(last.offset + 1), data: last.offset + 1 });
      await new Promise((r) => setTimeout(r, 50));
    }
    last = await broker.publish('busy', { id: 'last', data: 'last' });
    const fromStart = await broker.subscribe('busy', { epoch: first.epoch, offset: 0 }, () => {});
    expect(fromStart).toMatchObject({ epoch: first.epoch, offset: last.offset, recovered: false });
    const recent = await broker.subscribe('busy', { epoch: first.epoch, offset: last.offset - 1 }, () => {});
    expect(recent).toMatchObject({ offset: last.offset - 1, recovered: true });
    expect(recent.replay.map((m) => m.data)).toEqual(['last']);

    const idle = await broker.publish('idle', { id: '1', data: 1 });
    await broker.publish('idle', { id: '2', data: 2 });
    const admin = await inspector();
    const start = Date.now();
    while ((await admin.exists(`${prefix}:{idle}:stream`)) === 1 && Date.now() - start < 10_000) await new Promise((r) => setTimeout(r, 50));
    await admin.close();
    const afterIdle = await broker.subscribe('idle', { epoch: idle.epoch, offset: 1 }, () => {});
    // The epoch (metadata) outlives the history: same epoch, but offset 2 can no longer be replayed.
    expect(afterIdle).toMatchObject({ epoch: idle.epoch, offset: 2, recovered: false });
  });

  it('fills a hole left by a lost notification from the stream', async () => {
    const prefix = `hole${++namespace}`;
    const sharded = await node(prefix, { pubsub: 'sharded' });
    // A publisher whose notifications the sharded subscriber never sees: a lost notification.
    const silent = await node(prefix, { pubsub: 'classic' });
    const got: BrokerMessage[] = [];
    await sharded.subscribe('feed', undefined, (m) => got.push(m));
    await sharded.publish('feed', { id: '1', data: 1 });
    await silent.publish('feed', { id: '2', data: 2 });
    await silent.publish('feed', { id: '3', data: 3 });
    await sharded.publish('feed', { id: '4', data: 4 });
    await until(() => got.length === 4, 'four in order');
    expect(got.map((m) => m.offset)).toEqual([1, 2, 3, 4]);
  });

  it('sends one notification per publish call, carrying the messages it stored in order', async () => {
    const prefix = `batch${++namespace}`;
    const [publisher, subscriber] = [await node(prefix), await node(prefix)];
    const got: BrokerMessage[] = [];
    await subscriber.subscribe('burst', undefined, (m) => got.push(m));
    const watcher = await inspector();
    const payloads: string[] = [];
    const listener = await watcher.duplicate().on('error', () => {}).connect();
    await listener.sSubscribe(`${prefix}:{burst}:notify`, (p) => payloads.push(p));
    // One tick's publishes leave in one script call; a retried id in it stores nothing.
    const results = await Promise.all([1, 2, 3, 2, 4].map((n) => publisher.publish('burst', { id: `b${n}`, data: n })));
    expect(results.map((r) => [r.offset, r.duplicate])).toEqual([[1, false], [2, false], [3, false], [2, true], [4, false]]);
    await until(() => got.length === 4 && payloads.length === 1, 'the burst, in one notification');
    expect(got.map((m) => [m.offset, m.id, m.data])).toEqual([[1, 'b1', 1], [2, 'b2', 2], [3, 'b3', 3], [4, 'b4', 4]]);
    expect(payloads[0]).toMatch(/^\*1:4:[\w-]+:\[/);
    await listener.close();
    await watcher.close();
  });

  it('keeps exactly history.size messages, though the stream is trimmed approximately (MAXLEN ~)', async () => {
    const prefix = `trim${++namespace}`;
    const size = 10;
    const broker = await node(prefix, { history: { size } });
    const silent = await node(prefix, { history: { size }, pubsub: 'classic' }); // its notifications the others never see
    const got: number[] = [];
    await broker.subscribe('log', undefined, (m) => got.push(m.offset));
    const publishAll = (b: RedisBroker, from: number, to: number) =>
      Promise.all(Array.from({ length: to - from + 1 }, (_, i) => b.publish('log', { id: `l${from + i}`, data: from + i })));
    const [last] = (await publishAll(broker, 1, 300)).slice(-1);
    const admin = await inspector();
    // Whole stream nodes go: more than `size` entries are still in Redis, and no read may show them.
    expect(Number(await admin.sendCommand(['XLEN', `${prefix}:{log}:stream`]))).toBeGreaterThan(size);
    await admin.close();
    const history = await broker.history('log', { limit: 100, direction: 'backward' });
    expect(history.messages.map((m) => m.offset)).toEqual(Array.from({ length: size }, (_, i) => 300 - i));
    expect((await broker.history('log', { limit: 100, direction: 'forward', after: 200 })).messages[0]?.offset).toBe(291);
    const reachable = await broker.subscribe('log', { epoch: last!.epoch, offset: 300 - size }, () => {});
    expect(reachable).toMatchObject({ recovered: true });
    expect(reachable.replay.map((m) => m.offset)).toEqual(Array.from({ length: size }, (_, i) => 291 + i));
    expect(await broker.subscribe('log', { epoch: last!.epoch, offset: 300 - size - 1 }, () => {})).toMatchObject({ recovered: false });
    // A hole longer than history: the fill delivers what history holds, the jump tells the client (gap).
    await until(() => got.length === 300, 'the live messages');
    await publishAll(silent, 301, 330);
    await broker.publish('log', { id: 'l331', data: 331 });
    await until(() => got.at(-1) === 331, 'the message after the hole');
    expect(got.slice(300)).toEqual(Array.from({ length: size }, (_, i) => 322 + i));
  });

  it('catches up after its pub/sub connection drops, without waiting for another publish', async () => {
    const prefix = `drop${++namespace}`;
    const subscriber = await node(prefix);
    const publisher = await node(prefix);
    const got: number[] = [];
    await subscriber.subscribe('ticks', undefined, (m) => got.push(m.offset));
    await publisher.publish('ticks', { id: '1', data: 1 });
    await until(() => got.length === 1, 'the first tick');
    const admin = await inspector();
    // Kill every pub/sub connection, then publish while they reconnect.
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    for (let i = 2; i <= 6; i++) await publisher.publish('ticks', { id: String(i), data: i });
    await until(() => got.length === 6, 'the ticks published during the drop');
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    await admin.close();
  });

  it('keeps every key of a channel under one hash tag and uses sharded pub/sub on Redis 7', async () => {
    const prefix = `tags${++namespace}`;
    const broker = await node(prefix);
    await broker.subscribe('orders:eu', undefined, () => {});
    await broker.publish('orders:eu', { id: 'p1', data: 1 });
    const admin = await inspector();
    const keys = await admin.keys(`${prefix}:*`);
    // One `{…}` tag, the channel name, in every key: one Cluster slot (the notify channel too).
    expect(keys.sort()).toEqual([`${prefix}:{orders:eu}:id:p1`, `${prefix}:{orders:eu}:meta`, `${prefix}:{orders:eu}:stream`]);
    expect(await admin.sendCommand(['PUBSUB', 'SHARDCHANNELS', `${prefix}:*`])).toEqual([`${prefix}:{orders:eu}:notify`]);
    await admin.close();
  });

  it('one subscription per channel per process, reference-counted, and at most two connections', async () => {
    const prefix = `refs${++namespace}`;
    const admin = await inspector();
    const before = String(await admin.sendCommand(['CLIENT', 'LIST'])).trim().split('\n').length;
    const broker = await node(prefix);
    const subs = await Promise.all([1, 2, 3].map(() => broker.subscribe('shared', undefined, () => {})));
    await broker.subscribe('other', undefined, () => {});
    expect(await admin.sendCommand(['PUBSUB', 'SHARDNUMSUB', `${prefix}:{shared}:notify`])).toEqual([`${prefix}:{shared}:notify`, 1]);
    const after = String(await admin.sendCommand(['CLIENT', 'LIST'])).trim().split('\n').length;
    expect(after - before).toBe(2);
    expect(broker.stats().channels).toBe(2);
    subs[0]!.unsubscribe();
    subs[1]!.unsubscribe();
    expect(broker.stats().channels).toBe(2);
    subs[2]!.unsubscribe();
    expect(broker.stats().channels).toBe(1);
    const start = Date.now();
    while (Date.now() - start < 10_000) {
      const [, n] = (await admin.sendCommand(['PUBSUB', 'SHARDNUMSUB', `${prefix}:{shared}:notify`])) as [string, number];
      if (n === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await admin.sendCommand(['PUBSUB', 'SHARDNUMSUB', `${prefix}:{shared}:notify`])).toEqual([`${prefix}:{shared}:notify`, 0]);
    await admin.close();
  });

  it("uses the application's own client for commands and leaves it open on close", async () => {
    const client = createClient({ url: nodes.redis().url });
    client.on('error', () => {});
    await client.connect();
    const broker = createRedisBroker({ client, prefix: `own${++namespace}`, onError: () => {} });
    const got: BrokerMessage[] = [];
    await broker.subscribe('c', undefined, (m) => got.push(m));
    await broker.publish('c', { id: '1', data: 'hello' });
    await until(() => got.length === 1, 'delivered');
    await broker.close();
    expect(client.isReady).toBe(true);
    expect(await client.ping()).toBe('PONG');
    await client.close();
  });
});

describe('Redis broker when Redis fails', () => {
  it('rejects publishes typed with retryAfter while Redis is down, and works again once it is back', async () => {
    const own = await startRedis();
    try {
      const broker = createRedisBroker({ url: own.url, prefix: 'down', retryAfter: 750, commandTimeout: 1500, onError: () => {} });
      brokers.push(broker);
      await broker.ready();
      await broker.publish('c', { id: '1', data: 1 });
      await own.stop({ kill: true });
      const failure = await broker.publish('c', { id: '2', data: 2 }).catch((e: unknown) => e);
      expect(isRedisBrokerError(failure)).toBe(true);
      expect(failure).toMatchObject({ code: 'broker_unavailable', retryAfter: 750 });
      const subscribeFailure = await broker.subscribe('c', undefined, () => {}).catch((e: unknown) => e);
      expect(subscribeFailure).toMatchObject({ code: 'broker_unavailable' });
      await own.start();
      let result: Awaited<ReturnType<RedisBroker['publish']>> | undefined;
      const start = Date.now();
      while (!result && Date.now() - start < 15_000) {
        result = await broker.publish('c', { id: '2', data: 2 }).catch(() => undefined);
        if (!result) await new Promise((r) => setTimeout(r, 100));
      }
      // Persistence is off: the restarted Redis lost everything, so this is a new epoch.
      expect(result).toMatchObject({ offset: 1, duplicate: false });
    } finally {
      await own.stop({ kill: true });
    }
  });

  it('times out typed while Redis is paused, and loses nothing once it resumes', async () => {
    const own = await startRedis();
    try {
      const broker = createRedisBroker({ url: own.url, prefix: 'paused', commandTimeout: 500, onError: () => {} });
      brokers.push(broker);
      const got: number[] = [];
      await broker.subscribe('c', undefined, (m) => got.push(m.data as number));
      await broker.publish('c', { id: '1', data: 1 });
      own.pause();
      const failure = await broker.publish('c', { id: '2', data: 2 }).catch((e: unknown) => e);
      expect(failure).toMatchObject({ code: 'broker_unavailable', retryAfter: 1000 });
      own.resume();
      // The timed-out publish may have been stored after all: retrying its id stores it at most once.
      const retried = await broker.publish('c', { id: '2', data: 2 });
      await broker.publish('c', { id: '3', data: 3 });
      expect(retried.offset).toBe(2);
      await until(() => got.length === 3, 'all three');
      expect(got).toEqual([1, 2, 3]);
    } finally {
      own.resume();
      await own.stop({ kill: true });
    }
  });

  it('starts while Redis is still down: typed refusals at first, working once Redis is up', async () => {
    const own = await startRedis();
    await own.stop({ kill: true });
    try {
      const broker = createRedisBroker({ url: own.url, prefix: 'late', commandTimeout: 300, onError: () => {} });
      brokers.push(broker);
      const failure = await broker.publish('c', { id: '1', data: 1 }).catch((e: unknown) => e);
      expect(failure).toMatchObject({ code: 'broker_unavailable', retryAfter: 1000 });
      await own.start();
      let result: Awaited<ReturnType<RedisBroker['publish']>> | undefined;
      const start = Date.now();
      while (!result && Date.now() - start < 15_000) {
        result = await broker.publish('c', { id: '1', data: 1 }).catch(() => undefined);
        if (!result) await new Promise((r) => setTimeout(r, 100));
      }
      expect(result).toMatchObject({ offset: 1, duplicate: false });
      const got: number[] = [];
      await broker.subscribe('c', undefined, (m) => got.push(m.offset));
      await broker.publish('c', { id: '2', data: 2 });
      await until(() => got.length === 1, 'live delivery');
      expect(got).toEqual([2]);
    } finally {
      await own.stop({ kill: true });
    }
  });

  it('a channel released while Redis is down is not resubscribed for good when Redis returns', async () => {
    const own = await startRedis();
    try {
      const broker = createRedisBroker({ url: own.url, prefix: 'orphan', onError: () => {} });
      brokers.push(broker);
      const sub = await broker.subscribe('gone', undefined, () => {});
      await broker.subscribe('kept', undefined, () => {});
      await own.stop({ kill: true });
      sub.unsubscribe(); // cannot reach Redis now
      await own.start();
      const admin = createClient({ url: own.url });
      admin.on('error', () => {});
      await admin.connect();
      const count = async (name: string) => ((await admin.sendCommand(['PUBSUB', 'SHARDNUMSUB', `orphan:{${name}}:notify`])) as [string, number])[1];
      const start = Date.now();
      // node-redis resubscribes what it knew; the broker then drops the released channel.
      while (!((await count('kept')) === 1 && (await count('gone')) === 0) && Date.now() - start < 15_000) await new Promise((r) => setTimeout(r, 50));
      expect([await count('kept'), await count('gone')]).toEqual([1, 0]);
      await admin.close();
    } finally {
      await own.stop({ kill: true });
    }
  });
});

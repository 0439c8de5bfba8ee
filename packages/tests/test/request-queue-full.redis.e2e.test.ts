import { describe, expect, it } from 'vitest';
import type { TidewireError } from '@tidewire/core';
import { useRedisNodes } from '../../redis/test/redis-nodes';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * A session accepts at most a bounded amount of work (publishes in flight to the broker, then
 * requests waiting). With the Redis broker a publish is stored a round trip later, so a client
 * within a raised frame rate can send more at once than that. What is past the bound is refused
 * `rate_limited` with a `retryAfter`, request by request, and a refused publish holds the later
 * ones back (protocol §8) — so the client sends them again, in order, and every one is stored once.
 * The session used to close instead, which dropped the answers of what it had accepted: the
 * client re-sent its whole outbox and met the same wall, forever.
 */
const nodes = useRedisNodes();

describe.each(allTransports)('more requests at once than a session takes, over %s', (name, transport) => {
  it('3,000 publishes in one go: each stored once, in order, without the connection closing', async () => {
    const broker = await nodes.node(`full-${name}`);
    await using t = await startServer(
      { broker, limits: { rate: { perSecond: 10_000, burst: 5_000 } }, logger: { warn: () => {}, error: () => {} } },
      { transports: [transport()] },
    );
    const reader = t.client();
    const got: number[] = [];
    const feed = reader.channel('burst');
    feed.on('message', (m) => void got.push(m.data as number));
    await until(() => feed.getSnapshot().state === 'subscribed', 'the reader is subscribed');

    const writer = t.client({ maxQueue: 10_000 });
    const drops: string[] = [];
    writer.on('state', ({ to }) => void (to.state === 'reconnecting' && drops.push(String(to.error?.code))));
    const refusals: TidewireError[] = [];
    writer.on('error', (e) => void refusals.push(e));
    await writer.publish('warmup', 0);
    const total = 3000;
    const acks = await Promise.all(Array.from({ length: total }, (_, i) => writer.publish('burst', i)));
    expect(drops).toEqual([]);
    expect(acks.map((a) => a.offset)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    await until(() => got.length === total, `the reader has all ${total}`, 30_000);
    expect(got).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(refusals.every((e) => e.code === 'rate_limited')).toBe(true);
  }, 90_000);
});

import { describe, expect, it } from 'vitest';
import { isTidewireServerError, type ServerChannelMessage, type ServerGapInfo } from '@tidewire/server';
import { startServer, until } from './helpers/servers';
import { withTestBroker } from './helpers/test-broker';

/**
 * `server.subscribe`: a function in the server's process gets a channel's messages with the
 * clients' contract — once each, in offset order, the replay after `since` first, then live.
 * server-subscribe-redis.e2e.test.ts runs this same suite on the Redis broker.
 */
const errors: unknown[][] = [];
const start = () =>
  startServer(
    withTestBroker({ logger: { warn: () => {}, error: (...args: unknown[]) => void errors.push(args) }, history: { size: 1000, ttl: 60_000 } }),
  );

describe('server.subscribe', () => {
  it('gets what clients and the server publish, once each, in order, until unsubscribed', async () => {
    await using t = await start();
    const got: ServerChannelMessage[] = [];
    const gaps: unknown[] = [];
    const sub = await t.server.subscribe('room:1', (m) => void got.push(m), { onGap: (g) => void gaps.push(g) });
    const client = t.client();
    const ack = await client.channel('room:1').publish({ text: 'from a client' });
    const receipt = await t.server.publish('room:1', { text: 'from the server' }, { id: 'server-1' });
    await until(() => got.length === 2, 'both messages', 20_000);
    expect(got).toEqual([
      { channel: 'room:1', id: ack.id, epoch: ack.epoch, offset: ack.offset, data: { text: 'from a client' } },
      { channel: 'room:1', id: 'server-1', epoch: receipt.epoch, offset: receipt.offset, data: { text: 'from the server' } },
    ]);
    expect(gaps).toEqual([]); // a fresh channel's first message follows the position subscribed at
    sub.unsubscribe();
    sub.unsubscribe(); // idempotent
    await client.channel('room:1').publish('after');
    await t.server.publish('room:1', 'after too');
    await new Promise((r) => setTimeout(r, 200)); // nothing may arrive after unsubscribe
    expect(got).toHaveLength(2);
  }, 60_000);

  it('replays what was stored after `since`, then goes live, without a hole or a repeat while publishes race it', async () => {
    await using t = await start();
    const first = await t.server.publish('feed', 1);
    for (let i = 2; i <= 10; i++) await t.server.publish('feed', i);
    const got: number[] = [];
    const offsets: number[] = [];
    // Publishes in flight while the subscription registers: each lands in the replay or live, never both.
    const racing = Array.from({ length: 40 }, (_, i) => t.server.publish('feed', 11 + i));
    const sub = await t.server.subscribe(
      'feed',
      (m) => {
        got.push(m.data as number);
        offsets.push(m.offset);
      },
      { since: { epoch: first.epoch, offset: 4 } },
    );
    expect(sub).toMatchObject({ epoch: first.epoch, offset: 4, recovered: true });
    await Promise.all(racing);
    for (let i = 51; i <= 60; i++) await t.server.publish('feed', i);
    await until(() => got.length >= 56, `messages 5–60 (have ${got.length})`, 20_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(offsets).toEqual(Array.from({ length: 56 }, (_, i) => i + 5));
    expect(new Set(got).size).toBe(56);
  }, 60_000);

  it('calls onGap when `since` cannot be bridged, then delivers live', async () => {
    await using t = await start();
    await t.server.publish('news', 'old');
    const gaps: ServerGapInfo[] = [];
    const got: unknown[] = [];
    const sub = await t.server.subscribe('news', (m) => void got.push(m.data), {
      since: { epoch: 'an-epoch-that-never-was', offset: 3 },
      onGap: (info) => void gaps.push(info),
    });
    expect(sub.recovered).toBe(false);
    expect(gaps).toEqual([{ epoch: sub.epoch, offset: sub.offset, from: { epoch: 'an-epoch-that-never-was', offset: 3 }, reason: 'epoch_changed' }]);
    await t.server.publish('news', 'new');
    await until(() => got.length === 1, 'the live message', 20_000);
    expect(got).toEqual(['new']);
  }, 60_000);

  it('a throwing listener is logged and still gets the next message', async () => {
    await using t = await start();
    errors.length = 0;
    const got: unknown[] = [];
    await t.server.subscribe('bots', (m) => {
      got.push(m.data);
      if (m.data === 'bad') throw new Error('listener bug');
    });
    await t.server.publish('bots', 'bad');
    await t.server.publish('bots', 'good');
    await until(() => got.length === 2, 'both messages', 20_000);
    expect(got).toEqual(['bad', 'good']);
    expect(errors.some(([message]) => String(message).includes('server.subscribe listener'))).toBe(true);
  }, 60_000);

  it('refuses invalid channels, ends with close(), and refuses after it', async () => {
    await using t = await start();
    await expect(t.server.subscribe('', () => {})).rejects.toSatisfy((e) => isTidewireServerError(e) && e.code === 'invalid_channel');
    const got: unknown[] = [];
    await t.server.subscribe('end', (m) => void got.push(m.data));
    await t.server.publish('end', 'before');
    await until(() => got.length === 1, 'the first message', 20_000);
    await t.server.close();
    await expect(t.server.subscribe('end', () => {})).rejects.toSatisfy((e) => isTidewireServerError(e) && e.code === 'closed');
    expect(got).toEqual(['before']);
  }, 60_000);
});

import { describe, expect, it } from 'vitest';
import { RequestError } from '@tidewire/core';
import type { ChannelMessage, TidewireError } from '@tidewire/core';
import { PublishRefusal } from '@tidewire/server';
import { until } from './helpers/servers';
import { allTransports, startQuietServer } from './helpers/transports';

/**
 * A publish the server refuses `rate_limited` is held and sent again by the client (never
 * rejected), and the app hears of it: a `RequestError` with code `rate_limited`, the publish's
 * `id` and the server's `retryAfter` on `client.on('error')`. Against the real server, over
 * every transport.
 */
describe.each(allTransports)('a rate-limited publish reaches the app over %s', (_name, transport) => {
  it('as a typed rate_limited on client.on("error"), while the publish itself is retried and stored once, in order', async () => {
    // 0.4 frames a second, burst 1. `connected` announces whole frames (rate 1), so the client's
    // pacer sends the second publish after ~1.1 s, when the server has refilled less than one
    // token: a genuine refusal by the server's own limit, with its retryAfter.
    await using t = await startQuietServer(transport, { limits: { rate: { perSecond: 0.4, burst: 1 } } });
    const watcher = t.client();
    const seen: ChannelMessage[] = [];
    const room = watcher.channel('room');
    room.on('message', (m) => seen.push(m));
    await until(() => room.getSnapshot().state === 'subscribed', 'watcher subscribed');

    const publisher = t.client();
    const errors: TidewireError[] = [];
    publisher.on('error', (e) => errors.push(e));
    const acks = await Promise.all([publisher.publish('room', 'first'), publisher.publish('room', 'second')]);

    const limited = errors.filter((e) => e.code === 'rate_limited');
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(errors.filter((e) => e.code !== 'rate_limited')).toEqual([]);
    for (const error of limited) {
      expect(error).toBeInstanceOf(RequestError);
      expect(acks.map((a) => a.id)).toContain(error.context.id);
      expect(error.context.retryAfter).toBeGreaterThan(0);
    }
    expect(t.server.metrics().refused.rate_limited).toBe(limited.length);
    // Held, not lost: both stored once, in publish order.
    expect(acks.map((a) => a.offset)).toEqual([1, 2]);
    await until(() => seen.length >= 2, 'the watcher sees both');
    await new Promise((r) => setTimeout(r, 100)); // nothing extra trickles in
    expect(seen.map((m) => [m.offset, m.data])).toEqual([
      [1, 'first'],
      [2, 'second'],
    ]);
  }, 30_000);

  it("also for a refusal by the server's onPublish (PublishRefusal 'rate_limited'), with the server's message", async () => {
    let refusals = 1;
    await using t = await startQuietServer(transport, {
      onPublish: () => {
        if (refusals-- > 0) throw new PublishRefusal('at most 3 messages per 5 s', 'rate_limited');
      },
    });
    const publisher = t.client();
    const errors: TidewireError[] = [];
    publisher.on('error', (e) => errors.push(e));
    const ack = await publisher.publish('room', 'held once');
    expect(errors.map((e) => [e.code, e.message, e.context.id])).toEqual([['rate_limited', 'at most 3 messages per 5 s', ack.id]]);
    expect(ack.offset).toBe(1);
  }, 30_000);
});

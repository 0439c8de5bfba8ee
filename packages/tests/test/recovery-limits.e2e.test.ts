import { describe, expect, it } from 'vitest';
import type { Channel, ChannelMessage, GapInfo, TidewireError } from '@tidewire/core';
import { until } from './helpers/servers';
import { allTransports, startQuietServer } from './helpers/transports';

/**
 * Issue 9 kind 5: recovery traffic (resubscribes after a cut, an outbox flushed on reconnect) must
 * fit the server's own default rate limit (burst 200, 100 frames/s) — nothing refused for good,
 * nothing left `subscribing`. Against the real server, with its default limits, over each transport.
 */
const start = startQuietServer;

const transports = allTransports;

const CHANNELS = 250;

describe.each(transports)('recovery within the server limits over %s', (_name, transport) => {
  it(`resubscribes ${CHANNELS} channels after the line is cut; every message after the cut arrives once, in order`, async () => {
    await using t = await start(transport);
    const client = t.client();
    const errors: TidewireError[] = [];
    client.on('error', (e) => errors.push(e));
    const received = new Map<string, number[]>();
    const gaps: GapInfo[] = [];
    const handles: Channel[] = [];
    for (let i = 0; i < CHANNELS; i++) {
      const name = `room:${i}`;
      const ch = client.channel(name);
      received.set(name, []);
      ch.on('message', (m: ChannelMessage) => received.get(name)!.push(m.data as number));
      ch.on('gap', (g) => gaps.push(g));
      handles.push(ch);
    }
    const allSubscribed = () => handles.every((h) => h.getSnapshot().state === 'subscribed');
    await until(allSubscribed, `all ${CHANNELS} subscribed at first`, 30_000);
    // Give every channel a position, so the resubscribes ask for a replay.
    for (let i = 0; i < CHANNELS; i++) await t.server.publish(`room:${i}`, 0);
    await until(() => [...received.values()].every((v) => v.length === 1), 'the first message everywhere', 30_000);

    t.cutAll();
    client.disconnectTransport('test: the line is cut'); // a long-poll session would otherwise ride out the cut
    for (let i = 0; i < CHANNELS; i++) await t.server.publish(`room:${i}`, 1); // while the client is away
    await until(allSubscribed, `all ${CHANNELS} resubscribed`, 30_000);
    for (let i = 0; i < CHANNELS; i++) await t.server.publish(`room:${i}`, 2);
    await until(() => [...received.values()].every((v) => v.length >= 3), 'messages after the cut everywhere', 30_000);
    await new Promise((r) => setTimeout(r, 100)); // nothing extra trickles in

    expect(handles.filter((h) => h.getSnapshot().state !== 'subscribed').map((h) => h.name)).toEqual([]);
    for (const [name, values] of received) expect([name, values]).toEqual([name, [0, 1, 2]]);
    expect(gaps).toEqual([]);
    expect(errors.filter((e) => e.code === 'rate_limited')).toEqual([]);
  });

  it('server close() tells each client going_away with its own retryAfter, spread over a window that grows with the crowd', async () => {
    const t = await start(transport);
    const clients = Array.from({ length: 100 }, () => t.client({ lazy: false, backoff: () => 0 }));
    for (const client of clients) client.connect();
    await until(() => clients.every((c) => c.getSnapshot().state === 'connected'), 'all connected', 30_000);
    const hints: number[] = [];
    for (const client of clients) {
      client.on('state', ({ to }) => {
        if (to.state === 'reconnecting' && to.error.code === 'going_away' && hints.length < clients.length) hints.push(to.retryIn);
      });
    }
    await t.server.close();
    await until(() => hints.length === clients.length, 'every client told going_away', 30_000);
    for (const client of clients) client.close();
    // 100 sessions: a 2 s window (20 ms per session, at least 1 s), each client honouring its own hint.
    expect(hints.every((ms) => ms >= 0 && ms < 2000)).toBe(true);
    expect(new Set(hints).size).toBeGreaterThan(90);
    expect(Math.max(...hints)).toBeGreaterThanOrEqual(1000);
    expect(Math.min(...hints)).toBeLessThan(1000);
  }, 90_000); // its waits allow 30 s each: 100 clients connecting on a loaded machine outlast the 20 s default

  it('flushes 400 publishes queued offline on connect: each acked once, stored once, in order, none rate_limited', async () => {
    await using t = await start(transport);
    const publisher = t.client({ lazy: false });
    const watcher = t.client();
    const seen: number[] = [];
    const ch = watcher.channel('flood');
    ch.on('message', (m: ChannelMessage) => seen.push(m.data as number));
    await until(() => ch.getSnapshot().state === 'subscribed', 'watcher subscribed');
    const acks = Array.from({ length: 400 }, (_, i) => publisher.publish('flood', i));
    const outcomes = Promise.allSettled(acks);
    publisher.connect();
    const results = await outcomes;
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as TidewireError).code] : []));
    expect(refused).toEqual([]);
    const offsets = results.map((r) => (r.status === 'fulfilled' ? r.value.offset : -1));
    expect(offsets).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    await until(() => seen.length >= 400, `the watcher sees all 400 (has ${seen.length})`, 30_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(Array.from({ length: 400 }, (_, i) => i));
  });
});

import { describe, expect, it } from 'vitest';
import { type ChannelMessage, type GapInfo, type TidewireError } from '@tidewire/core';
import { until } from './helpers/servers';
import { allTransports, startQuietServer } from './helpers/transports';

/** The server's per-connection and per-channel limits, met by the real client on every transport. */

const start = startQuietServer;

const transports = allTransports;

describe.each(transports)('server limits over %s', (name, transport) => {
  it('a 4 MB replay to a session whose slow-consumer limit is 64 KiB arrives whole, in order, without closing the line', async () => {
    await using t = await start(transport, { limits: { maxBufferedBytes: 64 * 1024 }, history: { size: 5000 } });
    const payload = 'z'.repeat(2000);
    let epoch = '';
    for (let i = 0; i < 2000; i++) epoch = (await t.server.publish('big', payload)).epoch;
    const client = t.client();
    const states: string[] = [];
    client.on('state', ({ to }) => void states.push(to.state));
    const offsets: number[] = [];
    const gaps: GapInfo[] = [];
    const ch = client.channel('big', { since: { epoch, offset: 0 } });
    ch.on('message', (m: ChannelMessage) => void offsets.push(m.offset));
    ch.on('gap', (g) => gaps.push(g));
    await until(() => offsets.length === 2000, `2,000 replayed messages over ${name}`, 60_000);
    expect(offsets).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    expect(gaps).toEqual([]);
    expect(states).not.toContain('reconnecting'); // never closed slow_consumer by its own replay
  });

  it('maxSubscriptions: the channel one past the limit fails forbidden; the others keep working', async () => {
    await using t = await start(transport, { limits: { maxSubscriptions: 2 } });
    const client = t.client();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => client.channel(n));
    await until(() => a!.getSnapshot().state === 'subscribed' && b!.getSnapshot().state === 'subscribed', 'two subscribed');
    await until(() => c!.getSnapshot().state === 'failed', 'the third refused');
    const snapshot = c!.getSnapshot();
    expect(snapshot.state === 'failed' && snapshot.error.code).toBe('forbidden');
    const got: unknown[] = [];
    a!.on('message', (m) => got.push(m.data));
    await t.server.publish('a', 'still here');
    await until(() => got.length === 1, 'a still delivers');
  });

  it('an authorize hook that never answers fails that request after hookTimeout; the requests behind it go on', async () => {
    await using t = await start(transport, {
      hookTimeout: 200,
      authorize: ({ channel }) => (channel === 'stuck' ? new Promise<boolean>(() => {}) : true),
    });
    const client = t.client();
    const errors: TidewireError[] = [];
    client.on('error', (e) => errors.push(e));
    client.channel('stuck');
    const free = client.channel('free');
    const ack = await free.publish('behind the stuck subscribe');
    expect(ack.offset).toBe(1);
    await until(() => errors.some((e) => e.code === 'server_error'), 'the stuck subscribe is reported');
    expect(client.getSnapshot().state).toBe('connected');
  });
});

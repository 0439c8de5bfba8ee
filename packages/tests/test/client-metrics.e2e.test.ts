import { describe, expect, it } from 'vitest';
import { type ClientMetrics, type TransportFactory } from '@tidewire/core';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

const transports = allTransports;

const start = (transport: () => TransportFactory, options: Parameters<typeof startServer>[0] = {}) =>
  startServer({ logger: { warn: () => {}, error: () => {} }, ...options }, { transports: [transport()] });

describe.each(transports)('client.getMetrics() against the real server over %s', (name, transport) => {
  it('counts frames and bytes both ways, names the transport and why, and times a line check (rtt)', async () => {
    await using t = await start(transport);
    const client = t.client();
    expect(client.getMetrics()).toMatchObject({ rtt: undefined, reconnects: 0, framesIn: 0, framesOut: 0, queued: 0, transport: undefined });
    const room = client.channel('room');
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    const pending = room.publish('hi');
    expect(client.getMetrics().queued).toBe(1); // in the outbox until its ack
    await pending;
    const m = client.getMetrics();
    expect(m).toMatchObject({ transport: name, transportReason: 'preferred', queued: 0, reconnects: 0 });
    expect(m.framesOut).toBeGreaterThanOrEqual(3); // connect, subscribe, publish
    expect(m.framesIn).toBeGreaterThanOrEqual(3); // connected, subscribed, ack (and the message itself)
    expect(m.bytesOut).toBeGreaterThan(m.framesOut * 10);
    expect(m.bytesIn).toBeGreaterThan(m.framesIn * 10);
    expect(client.getMetrics()).toBe(m); // same object while nothing changed

    client.checkConnection(); // ping → pong
    await until(() => client.getMetrics().rtt !== undefined, 'the pong');
    expect(client.getMetrics().rtt).toBeGreaterThanOrEqual(0);
    expect(client.getMetrics().rtt).toBeLessThan(10_000);
  });

  it('counts reconnects by reason, recoveries and gaps; subscribers are told', async () => {
    await using t = await start(transport, { history: { size: 3, ttl: 60_000 } });
    const client = t.client({ backoff: () => 400 });
    const snapshots: ClientMetrics[] = [];
    const off = client.metrics.subscribe(() => snapshots.push(client.metrics.getSnapshot()));
    const feed = client.channel('feed');
    const got: unknown[] = [];
    const gaps: unknown[] = [];
    feed.on('message', (msg) => got.push(msg.data));
    feed.on('gap', (g) => gaps.push(g));
    await until(() => feed.getSnapshot().state === 'subscribed', 'subscribed');
    await t.server.publish('feed', 1);
    await until(() => got.length === 1, 'first');

    // A drop that history bridges: recovered.
    client.disconnectTransport('test drop');
    await until(() => client.getMetrics().recovered === 1, 'recovered once');
    expect(client.getMetrics().reconnects).toBe(1);
    expect(client.getMetrics().reconnectReasons).toEqual({ transport_error: 1 });

    // A drop during which more is published than history keeps: a gap.
    await until(() => feed.getSnapshot().state === 'subscribed', 'subscribed again');
    const dropped = new Promise<void>((resolve) => client.on('state', ({ to }) => to.state === 'reconnecting' && resolve()));
    client.disconnectTransport('test drop');
    await dropped;
    for (let i = 2; i <= 8; i++) await t.server.publish('feed', i);
    await until(() => client.getMetrics().gaps === 1, 'a gap');
    expect(gaps).toHaveLength(1);
    expect(client.getMetrics()).toMatchObject({ reconnects: 2, recovered: 1, gaps: 1, reconnectReasons: { transport_error: 2 } });
    // Listeners were told, each time with a new snapshot object.
    expect(snapshots.length).toBeGreaterThan(0);
    expect(new Set(snapshots).size).toBe(snapshots.length);
    expect(snapshots.at(-1)).toBe(client.metrics.getSnapshot());
    off();
  });
});

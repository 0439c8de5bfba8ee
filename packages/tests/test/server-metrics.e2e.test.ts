import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { websocket } from '@tidewire/core/websocket';
import { prometheusEndpoint } from '@tidewire/server/prometheus';
import { injectedWebSocket } from './helpers/env';
import { until } from './helpers/servers';
import { allTransports, startQuietServer } from './helpers/transports';

const start = startQuietServer;

const transports = allTransports;

describe.each(transports)('server.metrics() over %s', (name, transport) => {
  it('counts sessions by transport, frames both ways, publishes, refusals by code and broker latency', async () => {
    await using t = await start(transport, { authorize: ({ channel }) => !channel.startsWith('secret:') });
    const before = t.server.metrics();
    expect(before.sessions).toEqual({ websocket: 0, sse: 0, longpoll: 0, in_process: 0 });
    const alice = t.client();
    const room = alice.channel('room');
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    await room.publish('a');
    await room.publish('b');
    await t.server.publish('room', 'c');
    await expect(alice.channel('secret:x').publish('no')).rejects.toMatchObject({ code: 'forbidden' });
    await until(() => t.server.metrics().framesOut >= 6, 'frames counted');
    const m = t.server.metrics();
    expect(m.sessions[name as 'websocket' | 'sse' | 'longpoll']).toBe(1);
    expect(m.channels).toBeGreaterThanOrEqual(1);
    expect(m.publishes).toBe(3);
    expect(m.refused.forbidden).toBeGreaterThanOrEqual(1); // the publish (and the handle's subscribe, if it tried)
    // connect, subscribe, 3 publishes at least; connected, subscribed, 2 acks, 3 messages, 1 error at least.
    expect(m.framesIn).toBeGreaterThanOrEqual(5);
    expect(m.framesOut).toBeGreaterThanOrEqual(8);
    expect(m.bytesIn).toBeGreaterThan(m.framesIn);
    expect(m.bytesOut).toBeGreaterThan(m.framesOut);
    expect(m.brokerLatency.count).toBe(3);
    expect(m.brokerLatency.buckets.at(-1)).toBeLessThanOrEqual(3);
    expect(m.brokerLatency.maxMs).toBeGreaterThanOrEqual(0);
    alice.close();
    await until(() => t.server.metrics().sessions[name as 'websocket'] === 0, 'session gone');
  });

  it('counts a slow consumer closed in the middle of a publish loop that never yields (memory per session bounded)', async () => {
    const limit = 64 * 1024;
    await using t = await start(transport, { limits: { maxBufferedBytes: limit } });
    const bob = t.client();
    const ch = bob.channel('flood');
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');
    const pad = 'x'.repeat(1000);
    // 64 MiB in one synchronous loop: more than any kernel socket buffer can absorb.
    for (let i = 0; i < 64 * 1024; i++) void t.server.publish('flood', { i, pad });
    // Closed during the loop, not after it: the check runs every quarter of the limit.
    expect(t.server.metrics().slowConsumerCloses).toBe(1);
    expect(t.server.metrics().closes.slow_consumer).toBe(1);
  });
});

// A cut TCP connection does not end a long-poll session (the next poll carries on with the same
// session), so nothing is resubscribed there; the counting itself is transport-independent (subscriptions.ts).
describe.each(transports.filter(([name]) => name !== 'longpoll'))('server.metrics() recoveries over %s', (_name, transport) => {
  it('counts a recovery after a drop, and a gap when history cannot bridge it', async () => {
    await using t = await start(transport, { history: { size: 2, ttl: 60_000 } });
    const bob = t.client();
    const ch = bob.channel('feed');
    const got: unknown[] = [];
    ch.on('message', (m) => got.push(m.data));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');
    await t.server.publish('feed', 1);
    await until(() => got.length === 1, 'first');
    t.cutAll();
    await until(() => t.server.metrics().recoveries.recovered + t.server.metrics().recoveries.gaps >= 1, 'resubscribed');
    expect(t.server.metrics().recoveries).toEqual({ recovered: 1, gaps: 0 });
    await until(() => bob.getSnapshot().state === 'connected', 'reconnected');
    // Cut again and publish more than the history holds before the client comes back.
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed again');
    await t.server.publish('feed', 2);
    await until(() => got.length === 2, 'second');
    const cut = new Promise<void>((resolve) => bob.on('state', ({ to }) => to.state === 'reconnecting' && resolve()));
    t.cutAll();
    await cut;
    for (let i = 3; i <= 8; i++) await t.server.publish('feed', i);
    await until(() => t.server.metrics().recoveries.gaps >= 1, 'a gap counted');
    expect(t.server.metrics().recoveries.recovered).toBe(1);
  });
});

describe('the Prometheus endpoint (@tidewire/server/prometheus)', () => {
  it('serves server.metrics() in the Prometheus text format', async () => {
    await using t = await start(() => websocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }) }));
    const client = t.client();
    await client.channel('room').publish('hi');
    const { handler, registry } = await prometheusEndpoint(t.server);
    const http = createHttpServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(registry.contentType);
      const text = await res.text();
      expect(text).toMatch(/^# TYPE tidewire_publishes_total counter$/m);
      expect(text).toMatch(/^tidewire_publishes_total 1$/m);
      expect(text).toMatch(/^tidewire_sessions\{transport="websocket"\} 1$/m);
      expect(text).toMatch(/^tidewire_broker_publish_seconds_count 1$/m);
      expect(text).toMatch(/^tidewire_frames_in_total \d+$/m);
    } finally {
      await new Promise((r) => http.close(r));
    }
  });
});

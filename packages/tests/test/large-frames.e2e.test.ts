import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import WebSocketImpl from 'ws';
import { EventSource } from 'eventsource';
import type { TidewireError, TransportFactory, WebSocketConstructor } from '@tidewire/core';
import { eventsource } from '@tidewire/core/eventsource';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { websocket } from '@tidewire/core/websocket';
import { startServer, until } from './helpers/servers';
import { startThrottleProxy } from './helpers/throttle-proxy';

/**
 * Liveness by bytes: one 8 MiB message trickles in over longer than the client's silence
 * allowance (heartbeat 2 s + max(1 s, 1 s) = 3 s). Bytes still arriving are signs of life,
 * so the message is delivered once, with no reconnect (and so no replay loop).
 */
const HEARTBEAT = 2000;
const ALLOWANCE = HEARTBEAT + Math.max(1000, HEARTBEAT / 2);
const SIZE = 8 * 1024 * 1024;
// ~2 MiB/s: 8 MiB take ≥ 4 s on an idle machine, longer on a loaded one — always past the allowance.
const THROTTLE = { bytesPerTick: 20 * 1024, tickMs: 10 };

const transports: [string, () => TransportFactory][] = [
  // `ws` exposes the bytes of a message still arriving; browsers' and undici's WebSocket only whole messages.
  ['websocket', () => websocket({ WebSocket: WebSocketImpl as unknown as WebSocketConstructor })],
  ['sse', () => sse()],
  ['longpoll', () => longpoll()],
  ['eventsource', () => eventsource({ EventSource })],
];

describe.each(transports)('an 8 MiB message slower than the heartbeat allowance over %s', (name, transport) => {
  it('is delivered exactly once, without a reconnect', async () => {
    await using t = await startServer(
      {
        heartbeat: HEARTBEAT,
        limits: { maxPayload: 16 * 1024 * 1024, maxBufferedBytes: 64 * 1024 * 1024, rate: { perSecond: 1000, burst: 1000 } },
        logger: { warn: () => {}, error: () => {} },
      },
      { transports: [transport()] },
    );
    await using proxy = await startThrottleProxy(t.port, THROTTLE);
    const client = t.client({ url: proxy.via(t.url) });
    const states: string[] = [];
    client.on('state', ({ to }) => void states.push(to.state));
    const errors: TidewireError[] = [];
    client.on('error', (error) => void errors.push(error));
    const received: { size: number; offset: number }[] = [];
    const ch = client.channel('big');
    ch.on('message', (m) => void received.push({ size: typeof m.data === 'string' ? m.data.length : -1, offset: m.offset }));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed', 20_000);

    // Random text: nothing on the way can compress it into a few fast bytes.
    const big = randomBytes((SIZE / 4) * 3).toString('base64');
    const sentAt = Date.now();
    const before = proxy.downstreamBytes;
    await t.server.publish('big', big);
    await t.server.publish('big', 'after');
    // The server drops a client silent for 2 × heartbeat + 1 s, and its pings wait behind the
    // big message: like any app in use, the client keeps publishing meanwhile (its acks also wait).
    let keepalive = 0;
    const timer = setInterval(() => void client.publish('keepalive', ++keepalive).catch(() => {}), 500);
    try {
      await until(() => received.length >= 2, `both messages over ${name}`, 90_000);
    } finally {
      clearInterval(timer);
    }
    const took = Date.now() - sentAt;
    await new Promise((r) => setTimeout(r, 500)); // nothing more trickles in
    console.log(`[large-frames] ${name}: 8 MiB through a ~2 MiB/s link in ${took} ms (allowance ${ALLOWANCE} ms)`);

    expect(proxy.downstreamBytes - before).toBeGreaterThanOrEqual(SIZE);
    expect(took).toBeGreaterThan(ALLOWANCE); // the premise: the message was slower than the allowance
    expect(received).toEqual([
      { size: big.length, offset: 1 },
      { size: 5, offset: 2 },
    ]);
    expect(states.filter((s) => s === 'reconnecting')).toEqual([]);
    expect(client.getSnapshot().state).toBe('connected');
    expect(errors).toEqual([]);
  }, 120_000);
});

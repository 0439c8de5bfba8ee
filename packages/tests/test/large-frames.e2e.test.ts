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
 * Liveness by bytes, on both ends: one large message trickles in over longer than the client's
 * silence allowance (heartbeat + max(1 s, heartbeat / 2)) and the server's (2 × heartbeat + 1 s).
 * Bytes still arriving are signs of life to the client (once they add up to a frame's worth for the
 * heartbeat, heartbeat.ts liveBytes), bytes still draining to the server, so the message is
 * delivered once, with no reconnect (and so no replay loop) — a fast link with a big message, and a
 * slow link with a short heartbeat (the threshold follows the heartbeat, not a fixed 16 KiB).
 */
interface SlowCase {
  readonly heartbeat: number;
  /** Characters of the message (random base64: nothing on the way compresses it). */
  readonly size: number;
  readonly throttle: { bytesPerTick: number; tickMs: number };
}
const cases: [string, SlowCase][] = [
  // ~1 MiB/s: 8 MiB take ≥ 8 s on an idle machine, longer on a loaded one — always past both allowances.
  ['an 8 MiB message at ~1 MiB/s, heartbeat 2 s', { heartbeat: 2000, size: 8 * 1024 * 1024, throttle: { bytesPerTick: 10 * 1024, tickMs: 10 } }],
  // ~2 KB/s: 12 KB take ≥ 6 s — three client allowances of 2 s; a loaded machine only slows it further.
  ['a 12 KB message at ~2 KB/s, heartbeat 1 s', { heartbeat: 1000, size: 12 * 1024, throttle: { bytesPerTick: 20, tickMs: 10 } }],
];

const transports: [string, () => TransportFactory][] = [
  // `ws` exposes the bytes of a message still arriving; browsers' and undici's WebSocket only whole messages.
  ['websocket', () => websocket({ WebSocket: WebSocketImpl as unknown as WebSocketConstructor })],
  ['sse', () => sse()],
  ['longpoll', () => longpoll()],
  ['eventsource', () => eventsource({ EventSource })],
];

describe.each(transports)('a message slower than the heartbeat allowance over %s', (name, transport) => {
  it.each(cases)('%s: delivered exactly once, without a reconnect', async (_, { heartbeat, size, throttle }) => {
    const allowance = heartbeat + Math.max(1000, heartbeat / 2);
    const serverAllowance = 2 * heartbeat + 1000;
    await using t = await startServer(
      {
        heartbeat,
        limits: { maxPayload: 16 * 1024 * 1024, maxBufferedBytes: 64 * 1024 * 1024, rate: { perSecond: 1000, burst: 1000 } },
        logger: { warn: () => {}, error: () => {} },
      },
      { transports: [transport()] },
    );
    await using proxy = await startThrottleProxy(t.port, throttle);
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
    const big = randomBytes((size / 4) * 3).toString('base64');
    const sentAt = Date.now();
    const before = proxy.downstreamBytes;
    await t.server.publish('big', big);
    await t.server.publish('big', 'after');
    // The server's pings wait behind the big message, so the client cannot answer them for longer
    // than the server's silence allowance (2 × heartbeat + 1 s): the server must count the bytes it
    // drains to the client as signs of life too. The client sends nothing meanwhile.
    await until(() => received.length >= 2, `both messages over ${name}`, 90_000);
    const took = Date.now() - sentAt;
    await new Promise((r) => setTimeout(r, 500)); // nothing more trickles in
    console.log(`[large-frames] ${name}: ${size} characters in ${took} ms (allowances: client ${allowance} ms, server ${serverAllowance} ms)`);

    expect(proxy.downstreamBytes - before).toBeGreaterThanOrEqual(size);
    // The premise: the message was slower than both allowances (the client's and the server's).
    expect(took).toBeGreaterThan(Math.max(allowance, serverAllowance));
    expect(received).toEqual([
      { size: big.length, offset: 1 },
      { size: 5, offset: 2 },
    ]);
    expect(states.filter((s) => s === 'reconnecting')).toEqual([]);
    expect(client.getSnapshot().state).toBe('connected');
    expect(errors).toEqual([]);
  }, 120_000);
});

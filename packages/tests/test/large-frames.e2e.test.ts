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
 * Liveness by bytes, on both ends: one 8 MiB message trickles in over longer than the client's
 * silence allowance (heartbeat 2 s + max(1 s, 1 s) = 3 s) and the server's (2 × 2 s + 1 s = 5 s).
 * Bytes still arriving are signs of life to the client, bytes still draining to the server, so
 * the message is delivered once, with no reconnect (and so no replay loop).
 */
const HEARTBEAT = 2000;
const ALLOWANCE = HEARTBEAT + Math.max(1000, HEARTBEAT / 2);
/** The server drops a client that sent nothing for this long, unless it is reading (draining bytes). */
const SERVER_ALLOWANCE = 2 * HEARTBEAT + 1000;
const SIZE = 8 * 1024 * 1024;
// ~1 MiB/s: 8 MiB take ≥ 8 s on an idle machine, longer on a loaded one — always past both allowances.
const THROTTLE = { bytesPerTick: 10 * 1024, tickMs: 10 };

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
    // The server's pings wait behind the big message, so the client cannot answer them for longer
    // than the server's silence allowance (2 × heartbeat + 1 s): the server must count the bytes it
    // drains to the client as signs of life too. The client sends nothing meanwhile.
    await until(() => received.length >= 2, `both messages over ${name}`, 90_000);
    const took = Date.now() - sentAt;
    await new Promise((r) => setTimeout(r, 500)); // nothing more trickles in
    console.log(`[large-frames] ${name}: 8 MiB through a ~1 MiB/s link in ${took} ms (allowances: client ${ALLOWANCE} ms, server ${SERVER_ALLOWANCE} ms)`);

    expect(proxy.downstreamBytes - before).toBeGreaterThanOrEqual(SIZE);
    // The premise: the message was slower than both allowances (the client's and the server's).
    expect(took).toBeGreaterThan(Math.max(ALLOWANCE, SERVER_ALLOWANCE));
    expect(received).toEqual([
      { size: big.length, offset: 1 },
      { size: 5, offset: 2 },
    ]);
    expect(states.filter((s) => s === 'reconnecting')).toEqual([]);
    expect(client.getSnapshot().state).toBe('connected');
    expect(errors).toEqual([]);
  }, 120_000);
});

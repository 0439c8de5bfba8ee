import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import type { ClientOptions } from '../src/client';
import type { SubscribeFrame } from '../src/protocol/frames';
import { connected, fakeTransport } from './fake-transport';

// Racing transports (Happy Eyeballs) in the fallback plan: fake transports, fake time.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const noMemory = { get: () => undefined, set() {} };

function setup(options: Partial<ClientOptions> = {}) {
  const ws = fakeTransport('websocket');
  const sse = fakeTransport('sse');
  const poll = fakeTransport('longpoll');
  const client = createClient({
    url: 'ws://x/tw',
    transports: [ws.factory, sse.factory, poll.factory],
    transportMemory: noMemory,
    connectTimeout: 5000,
    backoff: () => 10,
    ...options,
  });
  return { ws, sse, poll, client };
}

const types = (sent: readonly { type: string }[]) => sent.map((f) => f.type);

describe('transports raced instead of waited for', () => {
  it('starts SSE after the head start when WebSocket opens but never speaks, keeps SSE and closes WebSocket', async () => {
    const { ws, sse, client } = setup();
    const ch = client.channel('room');
    const got: unknown[] = [];
    ch.on('message', (m) => got.push(m.data));
    const pending = client.publish('room', 'typed while connecting');
    await vi.advanceTimersByTimeAsync(0);
    ws.last.open(); // the proxy accepted the upgrade… and swallows everything
    await vi.advanceTimersByTimeAsync(399);
    expect(sse.lines).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(sse.lines).toHaveLength(1);
    sse.last.open();
    expect(types(sse.last.sent)).toEqual(['connect']);
    sse.last.push(connected());
    await vi.advanceTimersByTimeAsync(0);

    expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: 'sse', transportReason: 'fallback' });
    expect(ws.last.closedByClient).toBe(true);
    expect(types(ws.last.sent)).toEqual(['connect']); // the loser never carried a subscribe or a publish
    const sub = sse.last.sent.find((f): f is SubscribeFrame => f.type === 'subscribe')!;
    const publish = sse.last.sent.find((f) => f.type === 'publish') as { id: string };
    expect(types(sse.last.sent).filter((t) => t === 'publish')).toHaveLength(1);
    sse.last.push({ type: 'subscribed', id: sub.id, channel: 'room', epoch: 'e', offset: 0, recovered: true });
    sse.last.push({ type: 'message', channel: 'room', epoch: 'e', offset: 1, id: publish.id, data: 'typed while connecting' });
    sse.last.push({ type: 'ack', id: publish.id, epoch: 'e', offset: 1 });
    await expect(pending).resolves.toMatchObject({ offset: 1 });
    // A late `connected` on the abandoned WebSocket changes nothing.
    ws.last.push(connected());
    await vi.advanceTimersByTimeAsync(1000);
    expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: 'sse' });
    expect(types(ws.last.sent)).toEqual(['connect']);
    expect(got).toEqual(['typed while connecting']);
    client.close();
  });

  it('never starts the racer when WebSocket answers within the head start', async () => {
    const { ws, sse, poll, client } = setup();
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    ws.last.open();
    await vi.advanceTimersByTimeAsync(399);
    ws.last.push(connected());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: 'websocket', transportReason: 'preferred' });
    expect(sse.lines).toHaveLength(0);
    expect(poll.lines).toHaveLength(0);
    client.close();
  });

  it('keeps WebSocket when it answers after the racer started, and closes the racer after its connect only', async () => {
    const { ws, sse, client } = setup();
    client.channel('room');
    await vi.advanceTimersByTimeAsync(0);
    ws.last.open();
    await vi.advanceTimersByTimeAsync(400);
    sse.last.open();
    ws.last.push(connected());
    await vi.advanceTimersByTimeAsync(0);
    expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: 'websocket', transportReason: 'preferred' });
    expect(sse.last.closedByClient).toBe(true);
    expect(types(sse.last.sent)).toEqual(['connect']);
    expect(types(ws.last.sent)).toContain('subscribe');
    // The racer's own late `connected` is ignored: no switch, nothing sent on it.
    sse.last.push(connected());
    await vi.advanceTimersByTimeAsync(0);
    expect(client.getSnapshot()).toMatchObject({ transport: 'websocket' });
    expect(types(sse.last.sent)).toEqual(['connect']);
    client.close();
  });

  it('races long polling against a silent SSE after WebSocket was refused (every step of the list races)', async () => {
    const { ws, sse, poll, client } = setup();
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    ws.last.drop({ message: 'refused' });
    await vi.advanceTimersByTimeAsync(0);
    expect(client.getSnapshot()).toMatchObject({ state: 'connecting', transport: 'sse' });
    sse.last.open();
    await vi.advanceTimersByTimeAsync(400);
    expect(poll.lines).toHaveLength(1);
    poll.last.open();
    poll.last.push(connected());
    await vi.advanceTimersByTimeAsync(0);
    expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: 'longpoll', transportReason: 'fallback' });
    expect(sse.last.closedByClient).toBe(true);
    client.close();
  });

  it('a racer that fails leaves the first transport to its own deadline, then falls back as before', async () => {
    const { ws, sse, client } = setup();
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    ws.last.open();
    await vi.advanceTimersByTimeAsync(400);
    sse.last.drop({ message: 'blocked' });
    await vi.advanceTimersByTimeAsync(4599);
    expect(client.getSnapshot()).toMatchObject({ state: 'connecting', transport: 'websocket' });
    expect(sse.lines).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(1); // the switch retries at once
    expect(ws.last.closedByClient).toBe(true);
    expect(sse.lines).toHaveLength(2);
    expect(client.getSnapshot()).toMatchObject({ state: 'connecting', transport: 'sse', transportReason: 'fallback' });
    client.close();
  });

  it('does not race a transport that has worked (a server restart never downgrades)', async () => {
    const { ws, sse, client } = setup();
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    ws.last.open();
    ws.last.push(connected());
    await vi.advanceTimersByTimeAsync(0);
    ws.last.drop({ message: 'server restarting' });
    await vi.advanceTimersByTimeAsync(10);
    expect(ws.lines).toHaveLength(2);
    ws.last.open(); // the restarting server is slow to answer
    await vi.advanceTimersByTimeAsync(3000);
    expect(sse.lines).toHaveLength(0);
    ws.last.push(connected());
    await vi.advanceTimersByTimeAsync(0);
    expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: 'websocket' });
    client.close();
  });

  it('raceAfter: false waits for the whole connect timeout, as before', async () => {
    const { ws, sse, client } = setup({ raceAfter: false });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    ws.last.open();
    await vi.advanceTimersByTimeAsync(4999);
    expect(sse.lines).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(1); // the switch retries at once
    expect(sse.lines).toHaveLength(1);
    expect(client.getSnapshot()).toMatchObject({ state: 'connecting', transport: 'sse' });
    client.close();
  });

  it('close() while racing closes both lines', async () => {
    const { ws, sse, client } = setup({ raceAfter: 100 });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(sse.lines).toHaveLength(1);
    client.close();
    expect(ws.last.closedByClient).toBe(true);
    expect(sse.last.closedByClient).toBe(true);
  });
});

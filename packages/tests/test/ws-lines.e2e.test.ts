import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, until } from './helpers/servers';

/**
 * The `lines` capability (protocol §17.4): a WebSocket client that lists it in `connect.features`
 * gets a burst's frames after the first in one text message, joined by `\n`; one that does not
 * gets one message per frame. Raw `ws` lines, so what crosses the socket is what is asserted.
 */
async function rawLine(url: string, features: string[] | undefined) {
  const socket = new WebSocket(url);
  const messages: string[] = [];
  socket.on('message', (data) => void messages.push(String(data)));
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connect', v: 1, ...(features && { features }) }));
  await until(() => messages.length > 0, 'connected');
  const connected = JSON.parse(messages[0]!) as { type: string; features?: string[] };
  socket.send(JSON.stringify({ type: 'subscribe', id: 's1', channel: 'burst' }));
  await until(() => messages.some((m) => m.includes('"subscribed"')), 'subscribed');
  messages.length = 0;
  return { socket, messages, connected, frames: () => messages.flatMap((m) => m.split('\n').map((line) => JSON.parse(line) as { type: string; offset?: number })) };
}

describe('the lines capability over WebSocket against the real server', () => {
  it('is listed back to a client that asks, and a burst then arrives in few messages, every frame once and in order', async () => {
    await using t = await startServer({ limits: { rate: { perSecond: 10_000, burst: 10_000 } } });
    const line = await rawLine(t.url, ['lines']);
    expect(line.connected.features).toContain('lines');
    for (let i = 1; i <= 200; i++) void t.server.publish('burst', { i });
    await until(() => line.frames().length === 200, 'the burst arrives');
    expect(line.frames().map((f) => f.offset)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(line.messages.length).toBeLessThan(20); // the first frame alone, the rest joined (~64 KiB per message at most)
    expect(line.messages.some((m) => m.includes('\n'))).toBe(true);
    line.socket.close();
  });

  it('is not used with a client that does not ask: one message per frame', async () => {
    await using t = await startServer({ limits: { rate: { perSecond: 10_000, burst: 10_000 } } });
    const line = await rawLine(t.url, undefined);
    expect(line.connected.features ?? []).not.toContain('lines');
    for (let i = 1; i <= 200; i++) void t.server.publish('burst', { i });
    await until(() => line.messages.length === 200, 'the burst arrives');
    expect(line.messages.every((m) => !m.includes('\n'))).toBe(true);
    expect(line.frames().map((f) => f.offset)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    line.socket.close();
  });

  it('delivers a burst to the SDK client (which asks for it) once and in order', async () => {
    await using t = await startServer({ limits: { rate: { perSecond: 10_000, burst: 10_000 } } });
    const client = t.client();
    const channel = client.channel('burst');
    const offsets: number[] = [];
    channel.on('message', (m) => void offsets.push(m.offset));
    await until(() => channel.getSnapshot().state === 'subscribed', 'subscribed');
    for (let i = 1; i <= 2000; i++) void t.server.publish('burst', { i });
    await until(() => offsets.length === 2000, 'all 2,000 arrive');
    expect(offsets).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
  });
});

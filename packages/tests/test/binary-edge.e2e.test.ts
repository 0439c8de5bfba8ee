import { describe, expect, it } from 'vitest';
import type { ChannelMessage, TransportFactory } from '@tidewire/core';
import { binary, binaryWebSocket, encodeBinaryFrame } from '@tidewire/core/binary';
import { msgpack } from '@tidewire/core/msgpack';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { websocket } from '@tidewire/core/websocket';
import { openNegotiatedLine } from './helpers/binary-raw-line';
import { injectedWebSocket } from './helpers/env';
import { startServer, until } from './helpers/servers';

/**
 * Byte containers at the edges of binary(), msgpack() and server.publish, against the real server
 * over every transport: a SharedArrayBuffer is bytes like an ArrayBuffer (never `{}`), bytes nested
 * in an object arrive as bytes in the same place, and a binary WebSocket frame under the hard cap
 * is refused per request (`too_large`), never by closing the session (protocol §17.1).
 */
const transports: [string, () => TransportFactory][] = [
  ['websocket', () => websocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }) })],
  ['websocket (binary frames)', () => binaryWebSocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }) })],
  ['sse', () => sse()],
  ['longpoll', () => longpoll()],
];

const quiet = { logger: { warn: () => {}, error: () => {} } };

/** A SharedArrayBuffer holding `bytes`. */
function shared(bytes: number[]): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return buffer;
}

describe.each(transports)('binary edge cases over %s', (_name, transport) => {
  it('a SharedArrayBuffer (and a view of one) published by a client and by server.publish arrives as its bytes', async () => {
    await using t = await startServer(quiet, { transports: [transport()], codec: binary() });
    const watcher = t.client();
    const got: ChannelMessage[] = [];
    const ch = watcher.channel('c');
    ch.on('message', (m) => got.push(m));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');
    const publisher = t.client();
    await publisher.publish('c', shared([1, 2, 3, 4]));
    await publisher.publish('c', new Uint8Array(shared([9, 5, 6, 9]), 1, 2));
    await t.server.publish('c', shared([7, 8]));
    await until(() => got.length === 3, 'three messages');
    expect(got.map((m) => m.data)).toEqual([Uint8Array.of(1, 2, 3, 4), Uint8Array.of(5, 6), Uint8Array.of(7, 8)]);
    for (const m of got) expect(m.data).toBeInstanceOf(Uint8Array);
  }, 30_000);

  it('with msgpack(), a SharedArrayBuffer at the top level is sent as its bytes', async () => {
    await using t = await startServer(quiet, { transports: [transport()], codec: msgpack() });
    const watcher = t.client();
    const got: ChannelMessage[] = [];
    const ch = watcher.channel('c');
    ch.on('message', (m) => got.push(m));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');
    await t.client().publish('c', shared([5, 6]));
    await until(() => got.length === 1, 'the message');
    expect(got[0]!.data).toEqual(Uint8Array.of(5, 6));
  }, 30_000);

  it('binary(): bytes nested in objects and arrays arrive as bytes in the same place', async () => {
    await using t = await startServer(quiet, { transports: [transport()], codec: binary() });
    const watcher = t.client();
    const got: ChannelMessage[] = [];
    const ch = watcher.channel('files');
    ch.on('message', (m) => got.push(m));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');
    const file = { name: 'a.png', bytes: Uint8Array.of(1, 2, 3), parts: [{ chunk: shared([4]) }, 'text', 5], when: null };
    await t.client().publish('files', file);
    await until(() => got.length === 1, 'the message');
    const data = got[0]!.data as typeof file;
    expect(data.bytes).toBeInstanceOf(Uint8Array);
    expect(data).toEqual({ name: 'a.png', bytes: Uint8Array.of(1, 2, 3), parts: [{ chunk: Uint8Array.of(4) }, 'text', 5], when: null });
    // History replays the same.
    const page = await watcher.channel('files').history({ limit: 10 });
    expect(page.messages[0]!.data).toEqual(data);
  }, 30_000);

  it('binary(): data nesting bytes deeper than the server would accept (or cyclic) is refused bad_request at publish()', async () => {
    await using t = await startServer(quiet, { transports: [transport()], codec: binary() });
    const client = t.client();
    // 62 containers: the envelope sits at the frame's 64th level, the server's maxDepth: stored.
    let deepest: unknown = Uint8Array.of(1);
    for (let i = 0; i < 62; i++) deepest = { deep: deepest };
    expect((await client.publish('c', deepest)).offset).toBe(1);
    await expect(client.publish('c', { deep: deepest })).rejects.toMatchObject({ code: 'bad_request' });
    const cyclic: Record<string, unknown> = { bytes: Uint8Array.of(1) };
    cyclic.self = cyclic;
    await expect(client.publish('c', cyclic)).rejects.toMatchObject({ code: 'bad_request' });
    // The client goes on: a publish after them is stored.
    expect((await client.publish('c', { ok: Uint8Array.of(2) })).offset).toBe(2);
  }, 30_000);
});

describe('a binary WebSocket frame over maxPayload as text, under the hard cap on the wire', () => {
  it('is refused too_large for that request; the session stays and a later publish is stored', async () => {
    await using t = await startServer({ ...quiet, limits: { maxPayload: 4096 } });
    const line = await openNegotiatedLine(t.url, ['binary']);
    // 15,000 raw bytes: under the hard cap (4 × 4096 = 16,384) on the wire, 20,000 characters as base64 text.
    line.socket.send(encodeBinaryFrame(JSON.stringify({ type: 'publish', id: 'big', channel: 'c' }), new Uint8Array(15_000)));
    await until(() => line.texts.some((f) => f.type === 'error'), 'an answer');
    expect(line.texts.find((f) => f.type === 'error')).toMatchObject({ id: 'big', code: 'too_large' });
    line.socket.send(encodeBinaryFrame(JSON.stringify({ type: 'publish', id: 'small', channel: 'c' }), Uint8Array.of(1)));
    await until(() => line.texts.some((f) => f.type === 'ack' && f.id === 'small'), 'the small one acked');
    expect(line.closed).toBe(false);
    line.socket.close();
  }, 30_000);

  it('a binary frame past the hard cap on the wire still closes the session too_large', async () => {
    await using t = await startServer({ ...quiet, limits: { maxPayload: 4096 } });
    const line = await openNegotiatedLine(t.url, ['binary']);
    line.socket.send(encodeBinaryFrame(JSON.stringify({ type: 'publish', id: 'huge', channel: 'c' }), new Uint8Array(17_000)));
    await until(() => line.closed, 'the line closed');
    expect(line.texts.some((f) => f.type === 'ack')).toBe(false);
  }, 30_000);
});

import { describe, expect, it } from 'vitest';
import { type ChannelMessage, type TransportFactory } from '@tidewire/core';
import { binary, binaryWebSocket } from '@tidewire/core/binary';
import { longpoll } from '@tidewire/core/longpoll';
import { rpc } from '@tidewire/core/rpc';
import { sse } from '@tidewire/core/sse';
import { websocket } from '@tidewire/core/websocket';
import { bytesOf, createServer } from '@tidewire/server';
import { injectedWebSocket } from './helpers/env';
import { startServer, until } from './helpers/servers';
import { withTestBroker } from './helpers/test-broker';

type ServerOptions = NonNullable<Parameters<typeof createServer>[0]>;

const transports: [string, () => TransportFactory][] = [
  ['websocket', () => websocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }) })],
  // Binary frames negotiated (protocol §17.2); binary-frames.e2e.test.ts checks what crosses the socket.
  ['websocket (binary frames)', () => binaryWebSocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }) })],
  ['sse', () => sse()],
  ['longpoll', () => longpoll()],
];

/** Deterministic bytes covering every value 0–255 (so any base64 slip shows). */
const pattern = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
const MiB = 1024 * 1024;

describe.each(transports)('binary payloads over %s against the real server', (_name, transport) => {
  const start = (options: ServerOptions = {}) =>
    startServer(
      withTestBroker({
        logger: { warn: () => {}, error: () => {} },
        // 1 MiB of bytes is ~1.4 MB of base64 inside its frame: sizes count the bytes on the wire.
        limits: { maxPayload: 2 * MiB },
        ...options,
      }),
      { transports: [transport()], codec: binary() },
    );

  it('0 B, 1 B and 1 MiB published by a client and by server.publish reach another client (and the publisher) as the same bytes', async () => {
    await using t = await start();
    const alice = t.client();
    const bob = t.client();
    const got: ChannelMessage[] = [];
    const echoed: ChannelMessage[] = [];
    const b = bob.channel('files');
    const a = alice.channel('files');
    b.on('message', (m) => got.push(m));
    a.on('message', (m) => echoed.push(m));
    await until(() => a.getSnapshot().state === 'subscribed' && b.getSnapshot().state === 'subscribed', 'both subscribed');
    const published = [new Uint8Array(0), Uint8Array.of(0xff), pattern(MiB)];
    for (const bytes of published) await a.publish(bytes);
    const fromServer = [new Uint8Array(0), Uint8Array.of(0x01), pattern(MiB).reverse()];
    for (const bytes of fromServer) await t.server.publish('files', bytes);
    const sent = [...published, ...fromServer];
    await until(() => got.length === 6 && echoed.length === 6, 'six messages each', 30_000);
    for (const [i, bytes] of sent.entries()) {
      for (const message of [got[i]!, echoed[i]!]) {
        expect(message.data).toBeInstanceOf(Uint8Array);
        const data = message.data as Uint8Array;
        expect(data.byteLength).toBe(bytes.byteLength);
        // Compared natively: vitest's element-wise toEqual on 1 Mi elements takes tens of seconds.
        expect(Buffer.from(data.buffer, data.byteOffset, data.byteLength).equals(bytes)).toBe(true);
      }
    }
  }, 60_000); // 1 MiB through base64 and two subscribers: generous on a loaded machine

  it('ArrayBuffer, a typed-array view, a Blob (empty too) and server.publish(Buffer | ArrayBuffer) all arrive as Uint8Array; JSON data is untouched', async () => {
    await using t = await start();
    const alice = t.client();
    const bob = t.client();
    const got: unknown[] = [];
    const b = bob.channel('mixed');
    b.on('message', (m) => got.push(m.data));
    await until(() => b.getSnapshot().state === 'subscribed', 'bob subscribed');
    await alice.publish('mixed', Uint8Array.of(1, 2, 3).buffer);
    await alice.publish('mixed', new Uint16Array([0x0102, 0x0304]).subarray(1)); // a view into a larger buffer
    await alice.publish('mixed', new Blob([Uint8Array.of(9, 8, 7)]));
    await t.server.publish('mixed', Buffer.from([4, 5, 6]));
    await t.server.publish('mixed', new Uint8Array(0));
    await t.server.publish('mixed', Uint8Array.of(5, 4).buffer);
    await t.server.publish('mixed', Buffer.alloc(0));
    await alice.publish('mixed', new Blob([]));
    await alice.publish('mixed', { text: 'plain JSON', list: [1, 2] });
    await until(() => got.length === 9, 'nine messages');
    const view = new Uint8Array(new Uint16Array([0x0304]).buffer);
    const empty = new Uint8Array(0);
    expect(got).toEqual([Uint8Array.of(1, 2, 3), view, Uint8Array.of(9, 8, 7), Uint8Array.of(4, 5, 6), empty, Uint8Array.of(5, 4), empty, empty, { text: 'plain JSON', list: [1, 2] }]);
  });

  it('bytes survive history: a subscriber that reconnects gets the missed binary messages replayed as bytes', async () => {
    await using t = await start();
    const bob = t.client();
    const got: unknown[] = [];
    const b = bob.channel('replay');
    b.on('message', (m) => got.push(m.data));
    await until(() => b.getSnapshot().state === 'subscribed', 'subscribed');
    bob.disconnectTransport('test');
    await t.server.publish('replay', pattern(1000));
    await t.server.publish('replay', Uint8Array.of(7));
    await until(() => got.length === 2, 'replayed');
    expect(got).toEqual([pattern(1000), Uint8Array.of(7)]);
  });

  it('channel.history() returns stored bytes as Uint8Array', async () => {
    await using t = await start();
    const client = t.client();
    await t.server.publish('stored', Uint8Array.of(1, 2));
    await client.publish('stored', Uint8Array.of(3));
    await client.publish('stored', { plain: true });
    const page = await client.channel('stored').history({ limit: 10, direction: 'forward' });
    expect(page.messages.map((m) => m.data)).toEqual([Uint8Array.of(1, 2), Uint8Array.of(3), { plain: true }]);
  });

  it('rpc carries bytes both ways; the handler reads them with bytesOf', async () => {
    await using t = await start({ rpc: { reverse: ({ data }) => Uint8Array.from(bytesOf(data) ?? []).reverse() } });
    const client = t.client();
    expect(await rpc(client, 'reverse', Uint8Array.of(1, 2, 3))).toEqual(Uint8Array.of(3, 2, 1));
    expect(await rpc(client, 'reverse', new Uint8Array(0))).toEqual(new Uint8Array(0));
  });

  it('a too-large binary publish is refused before sending, by its size on the wire', async () => {
    await using t = await start({ limits: { maxPayload: 1024 } });
    const client = t.client();
    await client.publish('x', pattern(700)); // 700 B → 936 characters of base64: fits
    await expect(client.publish('x', pattern(800))).rejects.toMatchObject({ code: 'too_large' }); // 1,068 characters: does not
  });

  it('a client without the codec sees the protocol envelope, not garbage', async () => {
    await using t = await start();
    const plain = t.client({ codec: undefined });
    const got: unknown[] = [];
    const ch = plain.channel('env');
    ch.on('message', (m) => got.push(m.data));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');
    await t.server.publish('env', Uint8Array.of(1, 2, 3));
    await until(() => got.length === 1, 'arrives');
    expect(got[0]).toEqual({ $b64: 'AQID' });
  });
});

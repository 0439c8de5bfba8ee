import { describe, expect, it } from 'vitest';
import type { TransportFactory } from '@tidewire/core';
import { binary, binaryWebSocket } from '@tidewire/core/binary';
import { longpoll } from '@tidewire/core/longpoll';
import { msgpack, msgpackBytes } from '@tidewire/core/msgpack';
import { rpc } from '@tidewire/core/rpc';
import { sse } from '@tidewire/core/sse';
import { websocket } from '@tidewire/core/websocket';
import { bytesOf } from '@tidewire/server';
import { injectedWebSocket } from './helpers/env';
import { startServer, until } from './helpers/servers';

// The MessagePack payload codec (`@tidewire/core/msgpack`, protocol §17.3) end to end: each
// payload is one MessagePack document carried as bytes — raw in binary WebSocket frames, the
// base64 envelope on plain WebSocket, SSE and long polling — and the server needs nothing.

const withWs = { ...(injectedWebSocket && { WebSocket: injectedWebSocket }) };
const transports: [string, () => TransportFactory][] = [
  ['websocket (binary frames)', () => binaryWebSocket(withWs)],
  ['websocket', () => websocket(withWs)],
  ['sse', () => sse()],
  ['longpoll', () => longpoll()],
];

const MiB = 1024 * 1024;
const value = { text: 'hé ✓', n: -1.5, big: 2 ** 40, list: [1, null, true], when: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), bytes: Uint8Array.of(0, 255, 7) };

describe.each(transports)('msgpack() codec over %s against the real server', (_name, transport) => {
  const start = (options: Parameters<typeof startServer>[0] = {}) =>
    startServer({ logger: { warn: () => {}, error: () => {} }, limits: { maxPayload: 2 * MiB }, ...options }, { transports: [transport()], codec: msgpack() });

  it('structured data with Dates and bytes, top-level bytes (1 MiB, ArrayBuffer, Blob) round-trip between clients', async () => {
    await using t = await start();
    const alice = t.client();
    const bob = t.client();
    const got: unknown[] = [];
    const ch = bob.channel('mp');
    ch.on('message', (m) => got.push(m.data));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');
    const large = Uint8Array.from({ length: MiB }, (_, i) => (i * 7) & 0xff);
    await alice.publish('mp', value);
    await alice.publish('mp', large);
    await alice.publish('mp', Uint8Array.of(1, 2).buffer);
    await alice.publish('mp', new Blob([Uint8Array.of(3)]));
    await alice.publish('mp', 'just a string');
    await until(() => got.length === 5, 'five messages', 30_000);
    expect(got[0]).toEqual(value);
    expect(Buffer.from(got[1] as Uint8Array).equals(large)).toBe(true);
    expect(got.slice(2)).toEqual([Uint8Array.of(1, 2), Uint8Array.of(3), 'just a string']);
  }, 60_000);

  it('server.publish(msgpackBytes(value)) is read as the value; JSON from the server is delivered as it is', async () => {
    await using t = await start();
    const client = t.client();
    const got: unknown[] = [];
    const ch = client.channel('srv');
    ch.on('message', (m) => got.push(m.data));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');
    await t.server.publish('srv', msgpackBytes(value));
    await t.server.publish('srv', { plain: 'json' });
    await until(() => got.length === 2, 'two messages');
    expect(got).toEqual([value, { plain: 'json' }]);
  });

  it('a client with binary() instead sees the MessagePack document as bytes', async () => {
    await using t = await start();
    const packer = t.client();
    const reader = t.client({ codec: binary() });
    const got: unknown[] = [];
    const ch = reader.channel('peek');
    ch.on('message', (m) => got.push(m.data));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');
    await packer.publish('peek', { a: 1 });
    await until(() => got.length === 1, 'one message');
    expect(got[0]).toEqual(msgpackBytes({ a: 1 }));
  });

  it('rpc data and results are MessagePack too; data MessagePack cannot encode is refused with bad_request', async () => {
    await using t = await start({ rpc: { echo: ({ data }) => bytesOf(data) } });
    const client = t.client();
    expect(await rpc(client, 'echo', value)).toEqual(value);
    await expect(client.publish('x', { f: () => 1 })).rejects.toMatchObject({ code: 'bad_request' });
    await expect(client.publish('x', Symbol('s'))).rejects.toMatchObject({ code: 'bad_request' });
    await expect(client.publish('x', { tags: new Set(['a']) })).rejects.toMatchObject({ code: 'bad_request' }); // not a silent {}
  });
});

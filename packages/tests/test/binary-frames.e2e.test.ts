import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createClient, type ChannelMessage, type WebSocketConstructor } from '@tidewire/core';
import { binary, binaryWebSocket, encodeBinaryFrame } from '@tidewire/core/binary';
import { rpc } from '@tidewire/core/rpc';
import { sse } from '@tidewire/core/sse';
import { websocket } from '@tidewire/core/websocket';
import { bytesOf } from '@tidewire/server';
import { injectedWebSocket } from './helpers/env';
import { startFaultProxy } from './helpers/fault-proxy';
import { openNegotiatedLine } from './helpers/binary-raw-line';
import { startServer, until } from './helpers/servers';

// WebSocket binary frames (protocol §17.2) against the real server: what really crosses the
// socket is counted on the client's WebSocket, and a raw `ws` line checks the server's side of
// the negotiation; mixed peers (plain WebSocket, SSE, a server without the feature) still work.

const MiB = 1024 * 1024;
const pattern = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
const same = (data: unknown, bytes: Uint8Array): boolean =>
  data instanceof Uint8Array && Buffer.from(data.buffer, data.byteOffset, data.byteLength).equals(bytes);

/** Frames as they crossed one client's WebSocket(s), by kind and direction. */
interface FrameCounts {
  textOut: number;
  binaryOut: number;
  textIn: number;
  binaryIn: number;
}
const counts = (): FrameCounts => ({ textOut: 0, binaryOut: 0, textIn: 0, binaryIn: 0 });

interface EventedSocket {
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  send(data: unknown): void;
}

/** The test's WebSocket class (ws on Node 20, the runtime's on Node 22), counting every frame sent and received. */
function countingWebSocket(tally: FrameCounts): WebSocketConstructor {
  const Base = (injectedWebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket) as new (url: string, protocols?: string | string[]) => EventedSocket;
  class Counting extends Base {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (event) => void (typeof event.data === 'string' ? tally.textIn++ : tally.binaryIn++));
    }
    override send(data: unknown): void {
      if (typeof data === 'string') tally.textOut++;
      else tally.binaryOut++;
      super.send(data);
    }
  }
  return Counting as unknown as WebSocketConstructor;
}

const quiet = { logger: { warn: () => {}, error: () => {} }, limits: { maxPayload: 2 * MiB } };

describe('WebSocket binary frames against the real server', () => {
  it('bytes published and delivered cross the socket as binary frames; JSON stays text', async () => {
    await using t = await startServer(quiet, { codec: binary() });
    const aliceFrames = counts();
    const bobFrames = counts();
    const alice = t.client({ transports: [binaryWebSocket({ WebSocket: countingWebSocket(aliceFrames) })] });
    const bob = t.client({ transports: [binaryWebSocket({ WebSocket: countingWebSocket(bobFrames) })] });
    const got: ChannelMessage[] = [];
    const b = bob.channel('files');
    b.on('message', (m) => got.push(m));
    await until(() => b.getSnapshot().state === 'subscribed', 'bob subscribed');
    const published = [new Uint8Array(0), Uint8Array.of(0xff), pattern(MiB)];
    for (const bytes of published) await alice.publish('files', bytes);
    const fromServer = [new Uint8Array(0), Uint8Array.of(7), pattern(MiB)];
    for (const bytes of fromServer) await t.server.publish('files', bytes);
    await alice.publish('files', { json: true });
    await until(() => got.length === 7, 'seven messages', 30_000);

    [...published, ...fromServer].forEach((bytes, i) => expect(same(got[i]!.data, bytes), `message ${i}`).toBe(true));
    expect(got[6]!.data).toEqual({ json: true });
    expect(aliceFrames.binaryOut).toBe(3); // the three byte publishes
    expect(aliceFrames.textOut).toBeGreaterThanOrEqual(2); // connect and the JSON publish at least
    expect(bobFrames.binaryIn).toBe(6); // six byte messages; the JSON one, acks and the handshake: text
    expect(bobFrames.binaryOut).toBe(0);
  }, 60_000);

  it('rpc data and results travel as binary frames too', async () => {
    const tally = counts();
    await using t = await startServer(
      { ...quiet, rpc: { reverse: ({ data }) => Uint8Array.from(bytesOf(data) ?? []).reverse() } },
      { codec: binary(), transports: [binaryWebSocket({ WebSocket: countingWebSocket(tally) })] },
    );
    const client = t.client();
    expect(await rpc(client, 'reverse', Uint8Array.of(1, 2, 3))).toEqual(Uint8Array.of(3, 2, 1));
    expect(tally).toMatchObject({ binaryOut: 1, binaryIn: 1 });
  });

  it('mixed peers: plain WebSocket, SSE and binary-frame clients exchange bytes; only the last sees binary frames', async () => {
    await using t = await startServer(quiet, { codec: binary() });
    const plainFrames = counts();
    const framedFrames = counts();
    const plain = t.client({ transports: [websocket({ WebSocket: countingWebSocket(plainFrames) })] });
    const framed = t.client({ transports: [binaryWebSocket({ WebSocket: countingWebSocket(framedFrames) })] });
    const viaSse = t.client({ transports: [sse()] });
    const inbox = new Map<string, unknown[]>();
    const channels = { plain, framed, viaSse };
    for (const [name, client] of Object.entries(channels)) {
      const list: unknown[] = [];
      inbox.set(name, list);
      client.channel('mixed').on('message', (m) => list.push(m.data));
    }
    await until(() => Object.values(channels).every((c) => c.channel('mixed').getSnapshot().state === 'subscribed'), 'all subscribed');
    await plain.publish('mixed', Uint8Array.of(1));
    await framed.publish('mixed', Uint8Array.of(2));
    await viaSse.publish('mixed', Uint8Array.of(3));
    await until(() => [...inbox.values()].every((list) => list.length === 3), 'three messages each');
    for (const list of inbox.values()) expect(list).toEqual([Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)]);
    expect(plainFrames).toMatchObject({ binaryIn: 0, binaryOut: 0 });
    expect(framedFrames).toMatchObject({ binaryIn: 3, binaryOut: 1 });
  });

  it('bytes keep flowing across a fallback to SSE and the upgrade back to WebSocket, which then uses binary frames', async () => {
    await using t = await startServer({ ...quiet, history: { size: 1000, ttl: 60_000 } });
    await using proxy = await startFaultProxy(t.port);
    proxy.set('websocket', 'refuse');
    const tally = counts();
    const client = t.client({
      url: proxy.url(),
      codec: binary(),
      transports: [binaryWebSocket({ WebSocket: countingWebSocket(tally) }), sse()],
      upgradeDelay: 200,
      raceAfter: false,
      transportMemory: { get: () => undefined, set() {} },
    });
    // Closed here, not by the server's dispose: the proxy's own dispose waits for its lines to end.
    try {
      const got: unknown[] = [];
      const ch = client.channel('switch');
      ch.on('message', (m) => got.push(m.data));
      await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed on SSE');
      expect(client.getSnapshot()).toMatchObject({ transport: 'sse' });
      await client.publish('switch', Uint8Array.of(1));
      await t.server.publish('switch', Uint8Array.of(2));
      proxy.set('websocket', 'pass'); // the network heals: the client probes its way back
      await until(() => client.getSnapshot().transport === 'websocket', 'the upgrade', 20_000);
      await client.publish('switch', Uint8Array.of(3));
      await t.server.publish('switch', Uint8Array.of(4));
      await until(() => got.length === 4, 'four messages');
      expect(got).toEqual([Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3), Uint8Array.of(4)]);
      expect(tally).toMatchObject({ binaryOut: 1, binaryIn: 2 }); // after the upgrade: its publish, its two messages
    } finally {
      client.close();
    }
  });

  it('a server that does not list the feature gets text frames: bytes go as the base64 envelope', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const seen: { binary: boolean; frame: string }[] = [];
    server.on('connection', (socket) => {
      socket.on('message', (data, isBinary) => {
        const text = data.toString();
        seen.push({ binary: isBinary, frame: text });
        const frame = JSON.parse(text) as { type: string; id?: string; features?: string[] };
        // An older server: it ignores the client's features and announces none of its own.
        if (frame.type === 'connect') socket.send(JSON.stringify({ type: 'connected', v: 1, session: 's1', heartbeat: 30_000, maxPayload: MiB }));
        if (frame.type === 'publish') socket.send(JSON.stringify({ type: 'ack', id: frame.id, epoch: 'e', offset: seen.length }));
      });
    });
    const { port } = server.address() as { port: number };
    const tally = counts();
    const client = createClient({ url: `ws://127.0.0.1:${port}`, codec: binary(), transports: [binaryWebSocket({ WebSocket: countingWebSocket(tally) })] });
    try {
      await client.publish('old', Uint8Array.of(1, 2, 3));
      expect(tally.binaryOut).toBe(0);
      const connect = JSON.parse(seen[0]!.frame) as { type: string; features: string[] };
      expect(connect.type).toBe('connect');
      expect(connect.features).toContain('binary'); // beside `lines`, which websocket() asks for too
      const publish = seen.find((s) => s.frame.includes('"publish"'))!;
      expect(publish.binary).toBe(false);
      expect(JSON.parse(publish.frame)).toMatchObject({ type: 'publish', channel: 'old', data: { $b64: 'AQID' } });
    } finally {
      client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('the server answers connect.features "binary" in connected.features, sends binary messages and takes binary publishes', async () => {
    await using t = await startServer(quiet);
    const raw = await openNegotiatedLine(t.url, ['binary']);
    expect(raw.connected.features).toContain('binary');
    raw.sendText({ type: 'subscribe', id: 's1', channel: 'raw' });
    await until(() => raw.texts.some((f) => f.type === 'subscribed'), 'subscribed');
    raw.socket.send(encodeBinaryFrame(JSON.stringify({ type: 'publish', id: 'p1', channel: 'raw' }), Uint8Array.of(9, 8, 7)));
    await until(() => raw.texts.some((f) => f.type === 'ack' && f.id === 'p1') && raw.binaries.length === 1, 'acked and delivered');
    const delivered = raw.binaries[0]!;
    const headerLength = delivered.readUInt32BE(0);
    expect(JSON.parse(delivered.subarray(4, 4 + headerLength).toString())).toMatchObject({ type: 'message', channel: 'raw', id: 'p1' });
    expect([...delivered.subarray(4 + headerLength)]).toEqual([9, 8, 7]);
    // Stored as the envelope: a line that did not ask reads it as text from history.
    const plain = await openNegotiatedLine(t.url, []);
    expect(plain.connected.features ?? []).not.toContain('binary');
    plain.sendText({ type: 'subscribe', id: 's2', channel: 'raw', since: { epoch: (raw.texts.find((f) => f.type === 'subscribed') as { epoch: string }).epoch, offset: 0 } });
    await until(() => plain.texts.some((f) => f.type === 'message'), 'replayed as text');
    expect(plain.texts.find((f) => f.type === 'message')).toMatchObject({ data: { $b64: 'CQgH' } });
    expect(plain.binaries).toHaveLength(0);
    raw.socket.close();
    plain.socket.close();
  });
});

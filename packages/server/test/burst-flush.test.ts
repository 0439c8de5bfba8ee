import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { BURST_FLUSH_CHARS } from '../src/afterBurst';
import { TidewireWebSocket, wsLink } from '../src/transports/ws';

/** The payloads of the unmasked WebSocket frames in `bytes` (text frames as strings). */
function unframe(bytes: Buffer): (string | Buffer)[] {
  const out: (string | Buffer)[] = [];
  for (let at = 0; at < bytes.length; ) {
    const opcode = bytes[at]! & 0x0f;
    expect(bytes[at]! & 0xf0).toBe(0x80); // FIN, no RSV bits
    let length = bytes[at + 1]!;
    expect(length & 0x80).toBe(0); // a server does not mask
    at += 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at));
      at += 8;
    }
    const payload = bytes.subarray(at, at + length);
    out.push(opcode === 1 ? payload.toString('utf8') : Buffer.from(payload));
    at += length;
  }
  return out;
}

/**
 * A stand-in for the `ws` socket and for the TCP stream under it: a frame `ws` sends is one write
 * of its own; what the link writes to the stream itself is unframed, so each write lists the
 * frames it carried. `held` is what the link still holds back (its bufferedBytes: ws holds nothing).
 */
function fakeSocket() {
  const writes: (string | Buffer)[][] = [];
  const raw: Buffer[] = [];
  let maxHeld = 0;
  const stream = {
    write(bytes: Buffer) {
      raw.push(bytes);
      writes.push(unframe(bytes));
      return true;
    },
  };
  const socket = {
    readyState: WebSocket.OPEN,
    bufferedAmount: 0,
    send(frame: string | Buffer) {
      writes.push([frame]);
    },
    close() {},
    once() {},
  };
  const request = { headers: {} } as IncomingMessage;
  const inner = wsLink(socket as unknown as WebSocket, request, stream as unknown as Duplex);
  const link = {
    send(text: string) {
      inner.send(text);
      maxHeld = Math.max(maxHeld, inner.bufferedBytes());
    },
    close: inner.close.bind(inner),
  };
  return { link, writes, raw, held: () => inner.bufferedBytes(), maxHeldChars: () => maxHeld };
}

describe('WebSocket link: a burst that never yields', () => {
  it('is written out as it accumulates, never holding more than BURST_FLUSH_CHARS', () => {
    const { link, writes, maxHeldChars } = fakeSocket();
    const frame = JSON.stringify({ type: 'message', data: 'x'.repeat(100) });
    const n = Math.ceil((8 * BURST_FLUSH_CHARS) / frame.length);
    for (let i = 0; i < n; i++) link.send(frame);
    // Still inside the synchronous burst: most of it has already been handed to the stream.
    const flushed = writes.flat().length;
    expect(flushed).toBeGreaterThanOrEqual(n - Math.ceil(BURST_FLUSH_CHARS / frame.length));
    expect(writes.length).toBeGreaterThanOrEqual(8); // the first frame alone, then ~8 size-triggered flushes
    expect(maxHeldChars()).toBeLessThan(BURST_FLUSH_CHARS + frame.length);
  });

  it('still leaves a short burst in one write after the lone first frame, and in order', async () => {
    const { link, writes, held } = fakeSocket();
    for (let i = 0; i < 50; i++) link.send(`{"n":${i}}`);
    expect(writes).toEqual([['{"n":0}']]); // the first frame goes at once; the rest wait for the burst's end
    expect(held()).toBeGreaterThan(0);
    await Promise.resolve();
    expect(writes).toHaveLength(2);
    expect(writes.flat()).toEqual(Array.from({ length: 50 }, (_, i) => `{"n":${i}}`));
  });

  it('flushes the remainder at the end of a long burst, in order, nothing lost', async () => {
    const { link, writes } = fakeSocket();
    const frames = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ n: i, pad: 'y'.repeat(i % 97) }));
    for (const f of frames) link.send(f);
    await Promise.resolve();
    expect(writes.flat()).toEqual(frames);
  });

  it('frames every payload length and any UTF-8 exactly, and sends a frame larger than a batch through ws, in order', async () => {
    const { link, writes } = fakeSocket();
    const frames = ['{"first":1}', '{"a":"é 😀 \u2028"}', 'm'.repeat(125), 'm'.repeat(126), 'ü'.repeat(40_000), 'L'.repeat(3 * BURST_FLUSH_CHARS), '{"last":1}'];
    for (const f of frames) link.send(f);
    await Promise.resolve();
    expect(writes.flat()).toEqual(frames);
    // The oversized frame went on its own (through ws), after everything batched before it.
    expect(writes.some((w) => w.length === 1 && w[0] === frames[5])).toBe(true);
  });

  it('writes what a burst batched before the close frame', () => {
    const { link, writes } = fakeSocket();
    for (let i = 0; i < 5; i++) link.send(`{"n":${i}}`);
    link.close('slow_consumer', 'too slow');
    const sent = writes.flat() as string[];
    expect(sent.slice(0, 5)).toEqual(Array.from({ length: 5 }, (_, i) => `{"n":${i}}`));
    expect(JSON.parse(sent[5]!)).toMatchObject({ type: 'close', code: 'slow_consumer' });
  });

  it('writes what a burst batched before a close that ws starts itself (e.g. a frame over the hard cap)', () => {
    const order: string[] = [];
    // A server-side TidewireWebSocket without a network: ws's own close() runs for real down to its
    // Sender, which records the close frame instead of writing it.
    const socket = Object.assign(Object.create(TidewireWebSocket.prototype) as TidewireWebSocket, {
      _readyState: WebSocket.OPEN,
      _sender: { close: (code: number) => order.push(`close ${code}`) },
      _socket: { destroy() {} },
      _receiver: { _writableState: {} },
      send: (frame: string) => order.push(frame),
    });
    const stream = { write: (bytes: Buffer) => order.push(...(unframe(bytes) as string[])) };
    const link = wsLink(socket, { headers: {} } as IncomingMessage, stream as unknown as Duplex);
    for (let i = 0; i < 3; i++) link.send(`{"n":${i}}`);
    socket.close(1000);
    clearTimeout((socket as unknown as { _closeTimer?: NodeJS.Timeout })._closeTimer);
    expect(order).toEqual(['{"n":0}', '{"n":1}', '{"n":2}', 'close 1000']);
  });
});

describe('WebSocket link: a frame on its own (an ack, a fan-out message)', () => {
  it('goes out at once as one write of one framed buffer, not through ws', () => {
    const { link, writes, raw } = fakeSocket();
    const ack = '{"type":"ack","id":"p1","epoch":"e","offset":1}';
    link.send(ack);
    expect(writes).toEqual([[ack]]);
    expect(raw[0]).toHaveLength(2 + ack.length); // exactly header + payload
  });

  it('is framed once for every subscriber of a fan-out: they all write the same bytes', async () => {
    const subscribers = Array.from({ length: 5 }, () => fakeSocket());
    const message = JSON.stringify({ type: 'message', channel: 'fan', data: 'ü'.repeat(200) });
    for (const s of subscribers) s.link.send(message);
    const buffers = subscribers.map((s) => s.raw[0]);
    expect(new Set(buffers).size).toBe(1);
    expect(subscribers.map((s) => s.writes)).toEqual(subscribers.map(() => [[message]]));
    await Promise.resolve();
    // The next burst's first frame gets its own bytes.
    subscribers[0]!.link.send('{"n":1}');
    expect(subscribers[0]!.writes.at(-1)).toEqual(['{"n":1}']);
  });
});

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { BURST_FLUSH_CHARS } from '../src/afterBurst';
import { wsLink } from '../src/transports/ws';

/**
 * A stand-in for the TCP stream `ws` writes to and for the `ws` socket on top of it: frames sent
 * while the stream is corked wait in `held`; uncorking hands them to `written` as one write.
 */
function fakeSocket() {
  let corked = 0;
  let held: string[] = [];
  const writes: string[][] = [];
  let maxHeldChars = 0;
  const stream = {
    cork() {
      corked++;
    },
    uncork() {
      if (corked > 0 && --corked === 0 && held.length) {
        writes.push(held);
        held = [];
      }
    },
  };
  const socket = {
    readyState: WebSocket.OPEN,
    bufferedAmount: 0,
    send(text: string) {
      if (corked === 0) return void writes.push([text]);
      held.push(text);
      maxHeldChars = Math.max(maxHeldChars, held.reduce((n, t) => n + t.length, 0));
    },
  };
  const request = { headers: {} } as IncomingMessage;
  const link = wsLink(socket as unknown as WebSocket, request, stream as unknown as Duplex);
  return { link, writes, held: () => held, maxHeldChars: () => maxHeldChars };
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
    expect(held()).toHaveLength(49);
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
});

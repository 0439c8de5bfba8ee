import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocketImpl from 'ws';
import { binaryWebSocket } from '../src/binary-websocket';
import { createClient } from '../src/client';
import type { Client } from '../src/client';
import type { TidewireError } from '../src/errors';
import { ProtocolError } from '../src/errors';
import type { TransportFactory, WebSocketConstructor } from '../src/transport';
import { eventsource } from '../src/transports/eventsource';
import { DEFAULT_MAX_FRAME_BYTES, frameLimit } from '../src/transports/frame-limit';
import { longpoll } from '../src/transports/longpoll';
import { sse } from '../src/transports/sse';
import { sseEventMeter } from '../src/transports/sse-event-meter';
import { websocket } from '../src/transports/websocket';
import { CONNECTED, countingFetch, rawServer, writeForever } from './endless-server';
import { fullRecorder, until } from './http-line-fake';

/** Small, so the tests read little; the code path is the one a 64 MiB default takes. */
const LIMIT = 256 * 1024;
/** What a client may pull past the limit before it stops: the chunk that crossed it and a few read ahead. */
const SLACK = 256 * 1024;
const PIECE = 'a'.repeat(16 * 1024);

describe('frameLimit', () => {
  it('defaults to 64 MiB and refuses a limit that is not a positive integer (invalid_options)', () => {
    expect(frameLimit({})).toBe(DEFAULT_MAX_FRAME_BYTES);
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(64 * 1024 * 1024);
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) {
      expect(() => frameLimit({ maxFrameBytes: bad })).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    }
    // At once, where the app wrote it, not at the first connection attempt.
    for (const factory of [sse, longpoll, eventsource, websocket]) {
      expect(() => factory({ maxFrameBytes: 0 })).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    }
  });
});

describe('sseEventMeter: bytes since the last complete event', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  it('resets at a blank line, a comment included, and carries a line across chunks', () => {
    const meter = sseEventMeter();
    expect(meter(bytes('data: abc'))).toBe(9);
    expect(meter(bytes('def\n'))).toBe(13);
    expect(meter(bytes('\n'))).toBe(0); // the blank line split from its line
    expect(meter(bytes(': ping\n\ndata: x'))).toBe(7);
    expect(meter(bytes('\n\n: p\n\n'))).toBe(0);
  });
  it('counts CRLF line ends, also split between chunks', () => {
    const meter = sseEventMeter();
    expect(meter(bytes('data: a\r\n\r'))).toBe(10);
    expect(meter(bytes('\ndata: bb'))).toBe(8);
    expect(meter(bytes('\r\n\r\n'))).toBe(0);
  });
  it('keeps counting lines that never end the event (an endless multi-line event)', () => {
    const meter = sseEventMeter();
    let pending = 0;
    for (let i = 0; i < 100; i++) pending = meter(bytes('data: x\n'));
    expect(pending).toBe(800);
  });
});

const clients: Client[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

/** A client on `transport` that records its errors and the states it went through. */
function watch(url: string, transport: TransportFactory) {
  const client = createClient({ url, transports: [transport], backoff: () => 10 });
  clients.push(client);
  const errors: TidewireError[] = [];
  const states: string[] = [];
  client.on('error', (error) => void errors.push(error));
  client.on('state', ({ to }) => void states.push(to.state));
  client.connect();
  return { client, errors, states };
}

/** What every case asserts: one typed report, the line ended, a new line connected. */
async function expectReportedAndReconnected({ client, errors, states }: ReturnType<typeof watch>, what: RegExp) {
  await until(() => errors.length > 0, 'the error report').catch((e) => {
    throw new Error(`${e.message}; states ${states.join(',')}; snapshot ${JSON.stringify(client.getSnapshot())}`);
  });
  const error = errors[0]!;
  expect(error).toBeInstanceOf(ProtocolError);
  expect(error.code).toBe('invalid_frame');
  expect(error.message).toMatch(what);
  expect(error.message).toContain(`${LIMIT} bytes`);
  await until(() => states.filter((s) => s === 'connected').length >= 2, 'connected again');
  expect(states.slice(0, 4)).toEqual(['connecting', 'connected', 'reconnecting', 'connecting']);
  expect(errors).toHaveLength(1);
  expect(client.getSnapshot().state).toBe('connected');
}

/** Serve the SSE endpoint: the first stream opens, connects, then writes `prefix` and `piece` forever; later ones only connect. */
async function sseServer(prefix: string, piece: string) {
  const written: Promise<number>[] = [];
  const raw = await rawServer((_req, res, n) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`event: open\ndata: {"sid":"s${n}"}\n\ndata: ${CONNECTED}\n\n`);
    if (n === 1) written.push((res.write(prefix), writeForever(res, piece)));
  });
  return { raw, written };
}

describe.each([
  ['sse', (fetch: typeof globalThis.fetch) => sse({ fetch, maxFrameBytes: LIMIT })],
  ['eventsource', (fetch: typeof globalThis.fetch) => eventsource({ EventSource, fetch, maxFrameBytes: LIMIT })],
])('%s: an event that never ends', (_name, transport) => {
  it.each([
    ['one endless data line', 'data: ', PIECE],
    ['endless data lines without the blank line', '', `data: ${PIECE}\n`],
  ])('%s: reported invalid_frame, no more than the limit read, the client reconnects', async (_case, prefix, piece) => {
    const { raw, written } = await sseServer(prefix, piece);
    await using _raw = raw;
    const { counts, fetch } = countingFetch();
    const watched = watch(raw.url, transport(fetch));
    await expectReportedAndReconnected(watched, /SSE event outgrew maxFrameBytes/);
    // What the client held of the stream: never much more than the limit, however long the server writes.
    expect(counts.largestBody).toBeLessThan(LIMIT + SLACK);
    // The premise: the server wrote past the limit before the client cut it off.
    expect(await written[0]).toBeGreaterThan(LIMIT);
  }, 30_000);
});

describe('longpoll: an answer that never ends', () => {
  it.each([
    ['one endless line', PIECE, /long-poll line \(one frame\) outgrew maxFrameBytes/, LIMIT],
    // An answer holds many frames: its bound is one frame's plus the 4 MiB a server batches at most.
    ['endless short lines (frames)', '{"type":"pong"}\n', /long-poll answer outgrew maxFrameBytes/, LIMIT + 4 * 1024 * 1024],
  ])('%s: reported invalid_frame, no more than the bound read, the client reconnects', async (_case, piece, what, bound) => {
    const written: Promise<number>[] = [];
    let sessions = 0;
    const raw = await rawServer((req, res) => {
      if (req.method === 'POST') return void res.writeHead(200).end(JSON.stringify({ sid: `s${++sessions}` }));
      const url = new URL(req.url!, 'http://x');
      if (url.searchParams.get('ack') === '0') return void res.writeHead(200).end(`{"seq":1}\n${CONNECTED}`);
      // The first session's next poll never ends; a later session's polls are held (nothing to say).
      if (url.searchParams.get('sid') !== 's1' || written.length) return;
      res.writeHead(200);
      written.push((res.write('{"seq":2}\n'), writeForever(res, piece)));
    });
    await using _raw = raw;
    const { counts, fetch } = countingFetch();
    const watched = watch(raw.url, longpoll({ fetch, maxFrameBytes: LIMIT }));
    await expectReportedAndReconnected(watched, what);
    expect(counts.largestBody).toBeLessThan(bound + SLACK);
    expect(await written[0]).toBeGreaterThan(bound);
  }, 30_000);
});

describe('websocket: a message over the limit', () => {
  it.each([
    ['websocket', websocket],
    ['binaryWebSocket', binaryWebSocket],
  ])('%s with ws (maxPayload): never buffered past the limit, reported invalid_frame, the client reconnects', async (_name, factory) => {
    let connections = 0;
    const raw = await rawServer(() => {});
    await using _raw = raw;
    raw.wss.on('connection', (ws) => {
      const n = ++connections;
      ws.once('message', () => {
        ws.send(CONNECTED);
        if (n === 1) ws.send('a'.repeat(LIMIT + 1));
      });
    });
    const watched = watch(raw.url, factory({ WebSocket: WebSocketImpl as unknown as WebSocketConstructor, maxFrameBytes: LIMIT }));
    await expectReportedAndReconnected(watched, /WebSocket message outgrew maxFrameBytes/);
  }, 30_000);

  it('a message exactly at the limit passes', async () => {
    const raw = await rawServer(() => {});
    await using _raw = raw;
    raw.wss.on('connection', (ws) => ws.once('message', () => ws.send(CONNECTED)));
    const recorded = fullRecorder();
    const socketClass = WebSocketImpl as unknown as WebSocketConstructor;
    const line = websocket({ WebSocket: socketClass, maxFrameBytes: LIMIT }).open({ url: raw.url }, recorded.events);
    await until(() => recorded.log.opened === 1, 'open');
    const [server] = raw.wss.clients;
    server!.send('b'.repeat(LIMIT));
    await until(() => recorded.log.frames.length === 1, 'the frame');
    expect(recorded.log.frames[0]).toHaveLength(LIMIT);
    expect(recorded.log.invalid).toEqual([]);
    expect(recorded.log.closes).toEqual([]);
    line.close();
  });

  it('a socket without maxPayload (a browser) that delivers a longer message: reported, then the line ends', () => {
    class BrowserLike {
      static last?: BrowserLike;
      readyState = 1;
      bufferedAmount = 0;
      onopen: (() => void) | null = null;
      onmessage: ((ev: { data: unknown }) => void) | null = null;
      onclose = null;
      onerror = null;
      closed?: number;
      constructor() {
        BrowserLike.last = this;
      }
      send() {}
      close(code: number) {
        this.closed = code;
      }
    }
    const recorded = fullRecorder();
    websocket({ WebSocket: BrowserLike as unknown as WebSocketConstructor, maxFrameBytes: 10 }).open({ url: 'ws://x/tw' }, recorded.events);
    const socket = BrowserLike.last!;
    socket.onopen!();
    socket.onmessage!({ data: '0123456789' });
    socket.onmessage!({ data: '0123456789a' });
    expect(recorded.log.frames).toEqual(['0123456789']);
    expect(recorded.log.invalid).toEqual(['a WebSocket message outgrew maxFrameBytes (10 bytes)']);
    expect(recorded.log.closes).toHaveLength(1);
    expect(recorded.log.closes[0]!.cause).toBeInstanceOf(ProtocolError);
    expect(socket.closed).toBe(1000);
    expect(socket.onmessage).toBeNull(); // nothing more is read from it
  });
});

describe('a refusal whose error body never ends', () => {
  it.each([
    ['sse', (fetch: typeof globalThis.fetch) => sse({ fetch })],
    ['longpoll', (fetch: typeof globalThis.fetch) => longpoll({ fetch })],
  ])('%s: only its start is read (it names the status), and the client retries', async (_name, transport) => {
    const raw = await rawServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.write('{"error":{"code":"server_error","message":"');
      void writeForever(res, PIECE);
    });
    await using _raw = raw;
    const { counts, fetch } = countingFetch();
    const { client, states } = watch(raw.url, transport(fetch));
    await until(() => states.includes('reconnecting'), 'the attempt given up');
    const snapshot = client.getSnapshot();
    expect(snapshot.state === 'reconnecting' && (snapshot.error.cause as Error).message).toMatch(/HTTP 503/);
    // The error body is read to 4,096 characters at most: what the client pulled stays near that.
    expect(counts.largestBody).toBeLessThan(SLACK);
  }, 30_000);
});

describe('eventsource: a native EventSource (no fetch of ours) that hands over a longer event', () => {
  it('reports it, ends the line and closes the source; an event at the limit passes', () => {
    class NativeLike {
      static last?: NativeLike;
      readonly listeners = new Map<string, (event: { data?: unknown }) => void>();
      closed = false;
      constructor() {
        NativeLike.last = this;
      }
      addEventListener(type: string, listener: (event: { data?: unknown }) => void) {
        this.listeners.set(type, listener);
      }
      close() {
        this.closed = true;
      }
    }
    const recorded = fullRecorder();
    eventsource({ EventSource: NativeLike, fetch: async () => new Response(null, { status: 204 }), maxFrameBytes: 20 }).open({ url: 'http://x/tw' }, recorded.events);
    const source = NativeLike.last!;
    source.listeners.get('open')!({ data: '{"sid":"s1"}' });
    source.listeners.get('message')!({ data: 'x'.repeat(20) });
    source.listeners.get('message')!({ data: 'x'.repeat(21) });
    source.listeners.get('message')!({ data: 'after' });
    expect(recorded.log.frames).toEqual(['x'.repeat(20)]);
    expect(recorded.log.invalid).toEqual(['an SSE event outgrew maxFrameBytes (20 bytes)']);
    expect(recorded.log.closes).toHaveLength(1);
    expect(recorded.log.closes[0]!.cause).toBeInstanceOf(ProtocolError);
    expect(source.closed).toBe(true);
  });
});

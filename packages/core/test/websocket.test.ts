import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import type { TidewireError } from '../src/errors';
import type { WebSocketConstructor, WebSocketLike } from '../src/transport';
import { websocket } from '../src/transports/websocket';
import { connected } from './fake-transport';
import { fullRecorder, until } from './http-line-fake';

/** A WebSocket the test plays the server of; `_socket` stands for `ws`'s TCP socket. */
class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  bufferedAmount = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: string[] = [];
  readonly _socket = new EventEmitter();
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  /** Deliver one message as the implementation would, after its bytes arrived. */
  message(data: unknown): void {
    this._socket.emit('data', Buffer.from('bytes'));
    this.onmessage?.({ data });
  }
}
const FakeWebSocket = FakeSocket as unknown as WebSocketConstructor;
const last = () => FakeSocket.all.at(-1)!;

const binaryMessages: [string, unknown][] = [
  ['an ArrayBuffer', new ArrayBuffer(4)],
  ['a Node Buffer (ws)', Buffer.from('{"type":"ping"}')],
  ['a Uint8Array', new Uint8Array([123, 125])],
  ['a Blob', new Blob(['{}'])],
];

describe('websocket transport alone', () => {
  beforeEach(() => void (FakeSocket.all = []));

  it.each(binaryMessages)('reports %s as invalid instead of dropping it, and goes on', (_, data) => {
    const { log, events } = fullRecorder();
    websocket({ WebSocket: FakeWebSocket }).open({ url: 'ws://rt.test/x' }, events);
    last().open();
    last().message(data);
    last().message('{"type":"ping"}');
    expect(log.invalid).toEqual(['a binary WebSocket message (the protocol sends text frames only)']);
    expect(log.frames).toEqual(['{"type":"ping"}']);
    expect(log.closes).toEqual([]);
  });

  it('reports no activity of its own for a message where no TCP bytes can be seen (a browser WebSocket): its frames are the sign of life', () => {
    class BrowserLike extends FakeSocket {
      override readonly _socket = undefined as unknown as EventEmitter; // nothing below whole messages
      override message(data: unknown): void {
        this.onmessage?.({ data });
      }
    }
    const { log, events } = fullRecorder();
    websocket({ WebSocket: BrowserLike as unknown as WebSocketConstructor }).open({ url: 'ws://rt.test/x' }, events);
    last().open();
    last().message('{"type":"ping"}');
    last().message('{"type":"ping"}\n{"type":"pong"}');
    expect(log.activity).toBe(0);
    expect(log.frames).toEqual(['{"type":"ping"}', '{"type":"ping"}', '{"type":"pong"}']);
  });

  it('reads a message holding several frames, one per line (the lines capability), in order', () => {
    const { log, events } = fullRecorder();
    websocket({ WebSocket: FakeWebSocket }).open({ url: 'ws://rt.test/x' }, events);
    last().open();
    last().message('{"type":"ping"}\n{"type":"pong"}\nnot json');
    last().message('{"type":"ping"}');
    expect(log.frames).toEqual(['{"type":"ping"}', '{"type":"pong"}', 'not json', '{"type":"ping"}']); // each judged on its own above
  });

  it('counts every chunk of bytes on the socket as activity (a message adds nothing: its bytes were counted), and nothing after close()', () => {
    const { log, events } = fullRecorder();
    const transport = websocket({ WebSocket: FakeWebSocket }).open({ url: 'ws://rt.test/x' }, events);
    last().open();
    // A large message still arriving: only bytes, no message yet.
    for (let i = 0; i < 5; i++) last()._socket.emit('data', Buffer.alloc(1024));
    expect(log.activity).toBe(5);
    expect(log.activityBytes).toBe(5 * 1024); // with their size: the connection weighs bytes without frames (LIVE_BYTES)
    last().message('{"type":"ping"}'); // the chunk carrying it; the message itself is not counted again
    expect(log.activity).toBe(6);
    expect(log.frames).toEqual(['{"type":"ping"}']);
    transport.close();
    last()._socket.emit('data', Buffer.alloc(1));
    expect(log.activity).toBe(6);
  });
});

describe('a binary message through the client', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
  });
  afterEach(() => void vi.useRealTimers());

  const start = () => {
    const client = createClient({ url: 'ws://rt.test/x', WebSocket: FakeWebSocket, backoff: () => 100 });
    const errors: TidewireError[] = [];
    client.on('error', (error) => void errors.push(error));
    client.connect();
    return { client, errors };
  };

  it('is an invalid_frame error on a connected line, which stays up', async () => {
    const { client, errors } = start();
    await vi.advanceTimersByTimeAsync(1);
    last().open();
    last().message(JSON.stringify(connected()));
    expect(client.getSnapshot().state).toBe('connected');
    last().message(new ArrayBuffer(8));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ name: 'ProtocolError', code: 'invalid_frame', message: expect.stringMatching(/binary WebSocket message/) });
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
  });

  it('instead of the handshake ends the attempt, as garbage text does', async () => {
    const { client, errors } = start();
    await vi.advanceTimersByTimeAsync(1);
    last().open();
    last().message(Buffer.from('HTTP/1.1 200 OK'));
    expect(errors.map((e) => e.code)).toEqual(['invalid_frame']);
    expect(client.getSnapshot().state).toBe('reconnecting');
    client.close();
  });
});

describe('websocket transport on `ws` (Node): its own message event', () => {
  /**
   * A `ws`-shaped socket: an EventEmitter with `_isServer` (listeners called with `this` the socket),
   * messages as Buffers with an isBinary flag; the `onX` attributes must stay unused.
   */
  class FakeWs extends FakeSocket {
    readonly _isServer = false;
    readonly #emitter = new EventEmitter();
    on(event: string, listener: (...args: unknown[]) => void): this {
      this.#emitter.on(event, (...args: unknown[]) => listener.apply(this, args));
      return this;
    }
    override open(): void {
      this.readyState = 1;
      this.#emitter.emit('open');
    }
    end(code: number, reason: string): void {
      this.#emitter.emit('close', code, Buffer.from(reason));
    }
    deliver(data: Buffer, isBinary: boolean): void {
      this._socket.emit('data', data);
      this.#emitter.emit('message', data, isBinary);
    }
  }

  it('reads text frames from ws\'s message event as strings, reports binary ones, and counts each as activity', () => {
    const { log, events } = fullRecorder();
    websocket({ WebSocket: FakeWs as unknown as WebSocketConstructor }).open({ url: 'ws://x' }, events);
    const socket = last() as FakeWs;
    socket.open();
    expect(socket.onmessage).toBeNull(); // no DOM-style shim in between
    socket.deliver(Buffer.from('{"type":"ping","n":"é"}'), false);
    socket.deliver(Buffer.from([1, 2, 3]), true);
    expect(log.frames).toEqual(['{"type":"ping","n":"é"}']);
    expect(log.invalid).toHaveLength(1);
    expect(log.activity).toBeGreaterThanOrEqual(2);
    expect([socket.onopen, socket.onclose, socket.onerror]).toEqual([null, null, null]);
    socket.end(4001, 'bye');
    expect(log.closes).toHaveLength(1);
    expect(log.closes[0]!.message).toBe('bye');
  });

  it('keeps onmessage for a socket that has an `on` method but is not ws', () => {
    class OtherEmitterSocket extends FakeSocket {
      on(): void {
        throw new Error('not used');
      }
    }
    const { log, events } = fullRecorder();
    websocket({ WebSocket: OtherEmitterSocket as unknown as WebSocketConstructor }).open({ url: 'ws://x' }, events);
    last().open();
    last().message('{"type":"pong"}');
    expect(log.frames).toEqual(['{"type":"pong"}']);
  });
});

describe('websocket transport on `ws` (Node): frames sent in one tick leave together', () => {
  let wss: import('ws').WebSocketServer | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const peer of wss?.clients ?? []) peer.terminate(); // a failed test leaves its line open
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
    wss = undefined;
  });

  /**
   * A real `ws` server on loopback and the transport connected to it on real `ws`, with every write of
   * a TCP socket counted from then on (`_write`: one chunk, `_writev`: several corked ones).
   * @returns the line, what the server received (in order), and the count of writes
   */
  async function connectCountingWrites() {
    const ws = await import('ws');
    wss = new ws.WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => wss!.once('listening', () => resolve()));
    const received: string[] = [];
    wss.on('connection', (peer) => peer.on('message', (data) => received.push(String(data))));
    const { log, events } = fullRecorder();
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const line = websocket({ WebSocket: ws.default as unknown as WebSocketConstructor }).open({ url }, events);
    await until(() => log.opened === 1, 'the line opens');
    const socket = Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
    const writes = { count: 0 };
    for (const method of ['_write', '_writev'] as const) {
      const original = socket[method];
      vi.spyOn(socket, method).mockImplementation(function (this: unknown, ...args: unknown[]) {
        writes.count++;
        return original.apply(this, args);
      });
    }
    return { line, received, writes };
  }

  it('writes 200 frames sent in one loop at once, and they arrive complete and in order', async () => {
    const { line, received, writes } = await connectCountingWrites();
    const sent = Array.from({ length: 200 }, (_, i) => JSON.stringify({ type: 'ping', i }));
    for (const frame of sent) line.send(frame);
    await until(() => received.length === 200, 'all 200 frames arrive');
    expect(received).toEqual(sent);
    expect(writes.count).toBe(1); // uncorked at the tick's end: one writev of all 200
    line.close();
  });

  it('writes a long burst out every 64 KiB instead of holding it all until the tick ends', async () => {
    const { line, received, writes } = await connectCountingWrites();
    const sent = Array.from({ length: 400 }, (_, i) => JSON.stringify({ type: 'ping', i, pad: 'x'.repeat(1000) })); // ~400 KB
    // Handed to the stream while the loop runs: the outermost uncorks (ws corks each frame inside ours).
    // How many writes the kernel then takes depends on its buffers, so those are not what is counted.
    const socket = Socket.prototype as unknown as { uncork(): void; writableCorked: number };
    const uncork = socket.uncork;
    let released = 0;
    vi.spyOn(socket, 'uncork').mockImplementation(function (this: { writableCorked: number }) {
      if (this.writableCorked === 1) released++;
      uncork.call(this);
    });
    for (const frame of sent) line.send(frame);
    const releasedDuringTheLoop = released;
    await until(() => received.length === 400, 'all 400 frames arrive');
    expect(received).toEqual(sent);
    expect(releasedDuringTheLoop).toBeGreaterThanOrEqual(5); // ~400 KB / 64 KiB, handed over while the loop ran
    expect(releasedDuringTheLoop).toBeLessThanOrEqual(8); // not one per frame (400): corked in between
    expect(writes.count).toBeGreaterThanOrEqual(1);
    line.close();
  });

  it('sends a frame of a later tick in a write of its own (nothing waits for a next burst)', async () => {
    const { line, received, writes } = await connectCountingWrites();
    line.send('{"type":"ping","n":1}');
    await until(() => received.length === 1, 'the first frame arrives');
    line.send('{"type":"ping","n":2}');
    await until(() => received.length === 2, 'the second frame arrives');
    expect(received).toEqual(['{"type":"ping","n":1}', '{"type":"ping","n":2}']);
    expect(writes.count).toBe(2);
    line.close();
  });
});

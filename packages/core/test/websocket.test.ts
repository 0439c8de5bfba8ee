import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import type { TidewireError } from '../src/errors';
import type { WebSocketConstructor, WebSocketLike } from '../src/transport';
import { websocket } from '../src/transports/websocket';
import { connected } from './fake-transport';
import { fullRecorder } from './http-line-fake';

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

  it('counts every message and every chunk of bytes on the socket as activity, and nothing after close()', () => {
    const { log, events } = fullRecorder();
    const transport = websocket({ WebSocket: FakeWebSocket }).open({ url: 'ws://rt.test/x' }, events);
    last().open();
    // A large message still arriving: only bytes, no message yet.
    for (let i = 0; i < 5; i++) last()._socket.emit('data', Buffer.alloc(1024));
    expect(log.activity).toBe(5);
    last().message('{"type":"ping"}'); // one chunk + the message itself
    expect(log.activity).toBe(7);
    transport.close();
    last()._socket.emit('data', Buffer.alloc(1));
    expect(log.activity).toBe(7);
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
  /** A `ws`-shaped socket: an EventEmitter with `_isServer`, messages as Buffers with an isBinary flag; `onmessage` must stay unused. */
  class FakeWs extends FakeSocket {
    readonly _isServer = false;
    readonly #emitter = new EventEmitter();
    on(event: string, listener: (...args: unknown[]) => void): this {
      this.#emitter.on(event, listener);
      return this;
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

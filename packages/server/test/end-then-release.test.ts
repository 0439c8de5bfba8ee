import { EventEmitter } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CLOSE_GRACE_MS, endThenRelease, releaseUnflushed } from '../src/transports/endThenRelease';

/** Just what endThenRelease touches of a ServerResponse: `end`, `writableFinished`, `destroyed`, `destroy`, `close`. */
class FakeResponse extends EventEmitter {
  /** A socket of its own (a ServerResponse's); the fetch bridge's writer has none. */
  socket: object | null = {};
  writableFinished = false;
  destroyed = false;
  ended: unknown[] = [];
  end(...args: unknown[]): this {
    this.ended.push(args);
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    this.emit('close');
    return this;
  }
  /** The last bytes reached the operating system: a ServerResponse then emits `close`. */
  drain(): void {
    this.writableFinished = true;
    this.emit('close');
  }
}
const asResponse = (fake: FakeResponse) => fake as unknown as ServerResponse;

describe('endThenRelease (fake response, fake timers)', () => {
  afterEach(() => void vi.useRealTimers());

  it('destroys a response whose peer never takes the last bytes, once the grace is over, not before', () => {
    vi.useFakeTimers();
    const res = new FakeResponse();
    endThenRelease(asResponse(res), 'data: close\n\n');
    expect(res.ended).toEqual([['data: close\n\n']]);
    vi.advanceTimersByTime(CLOSE_GRACE_MS - 1);
    expect(res.destroyed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(res.destroyed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves a response that drains within the grace alone, and clears its timer', () => {
    vi.useFakeTimers();
    const res = new FakeResponse();
    endThenRelease(asResponse(res), undefined, 500);
    expect(res.ended).toEqual([[]]);
    vi.advanceTimersByTime(499);
    res.drain();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(res.destroyed).toBe(false);
  });

  it('arms nothing for a response already handed to the operating system, or already destroyed', () => {
    vi.useFakeTimers();
    const finished = new FakeResponse();
    finished.writableFinished = true;
    releaseUnflushed(asResponse(finished));
    const destroyed = new FakeResponse();
    destroyed.destroyed = true;
    releaseUnflushed(asResponse(destroyed));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('arms nothing for a response without a socket of ours (the fetch handler\'s writer: the platform frees its own)', () => {
    vi.useFakeTimers();
    const bridged = new FakeResponse();
    bridged.socket = null;
    endThenRelease(asResponse(bridged), 'bye');
    expect(vi.getTimerCount()).toBe(0);
    expect(bridged.destroyed).toBe(false);
  });

  it("does not hold the process open: the timer is unref'd", () => {
    const res = new FakeResponse();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    try {
      releaseUnflushed(asResponse(res));
      const timer = spy.mock.results[0]!.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
      res.drain();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('endThenRelease over a real socket', () => {
  /** Larger than what loopback TCP buffers hold, so part of it stays in the server process until the peer reads. */
  const BIG = Buffer.alloc(24 * 1024 * 1024, 'x');
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    server = undefined;
  });

  /** A server answering every request with BIG through endThenRelease; resolves with the server-side socket of the first request. */
  async function serve(graceMs: number) {
    let serverSocket!: (socket: Socket) => void;
    const socketSeen = new Promise<Socket>((resolve) => (serverSocket = resolve));
    // Bytes the process still held once the answer was ended; whether the response is over, and whether that cut its socket.
    const outcome = { heldAtEnd: 0, over: false, socketCut: false };
    server = createServer((_req, res) => {
      const socket = res.socket as Socket;
      serverSocket(socket);
      res.on('close', () => Object.assign(outcome, { over: true, socketCut: socket.destroyed }));
      res.writeHead(200, { 'content-length': BIG.length });
      endThenRelease(res, BIG, graceMs);
      outcome.heldAtEnd = socket.writableLength;
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = connect(port, '127.0.0.1');
    client.on('error', () => {});
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    return { client, socket: await socketSeen, outcome };
  }

  it('cuts the socket of a peer that never reads, so the unsent bytes leave the heap', async () => {
    const { client, socket, outcome } = await serve(50);
    // The peer never reads: part of the answer waits in this process.
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(outcome.heldAtEnd).toBeGreaterThan(0);
    expect(outcome).toMatchObject({ over: true, socketCut: true });
    expect(socket.destroyed).toBe(true);
    client.destroy();
  });

  it('lets a reading peer take every last byte', async () => {
    const { client, socket, outcome } = await serve(60_000);
    // The status line and headers, then the body: count the body's bytes.
    let head = Buffer.alloc(0);
    let body = -1;
    client.on('data', (chunk: Buffer) => {
      if (body >= 0) return void (body += chunk.length);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end >= 0) body = head.length - end - 4;
    });
    await vi.waitFor(() => expect(body).toBe(BIG.length), { timeout: 30_000, interval: 5 });
    expect(outcome.heldAtEnd).toBeGreaterThan(0);
    await vi.waitFor(() => expect(outcome).toMatchObject({ over: true, socketCut: false }), { timeout: 10_000 });
    expect(socket.destroyed).toBe(false); // kept alive for the next request, as any finished response
    client.destroy();
  });
});

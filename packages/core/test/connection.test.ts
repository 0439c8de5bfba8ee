import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Server, WebSocket as MockWebSocket } from 'mock-socket';
import { createClient } from '../src/client';
import type { StateChange } from '../src/connection-state';
import type { WebSocketConstructor } from '../src/transport';
import { connected, fakeTransport } from './fake-transport';

const URL_ = 'ws://tidewire.test/tidewire';
const noJitter = (attempt: number) => 100 * attempt;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('connection state machine over mock-socket', () => {
  let server: Server;
  beforeEach(() => {
    server = new Server(URL_);
  });
  afterEach(() => {
    server.stop();
  });

  function answerConnect(heartbeat = 1000) {
    server.on('connection', (socket) => {
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string };
        if (frame.type === 'connect') socket.send(JSON.stringify(connected(heartbeat)));
      });
    });
  }

  it('goes idle → connecting → connected with one transition per change, lazily on first channel', async () => {
    answerConnect();
    const client = createClient({ url: URL_, WebSocket: MockWebSocket as unknown as WebSocketConstructor });
    const changes: string[] = [];
    client.on('state', (c: StateChange) => changes.push(`${c.from.state}→${c.to.state}`));
    expect(client.getSnapshot().state).toBe('idle');
    client.channel('a');
    await vi.advanceTimersByTimeAsync(50);
    expect(changes).toEqual(['idle→connecting', 'connecting→connected']);
    expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: 'websocket', session: 'sess' });
    client.close();
  });

  it('treats silence past the first-frame deadline as a failure and backs off', async () => {
    server.on('connection', () => {}); // accepts the socket, never speaks
    const client = createClient({
      url: URL_,
      WebSocket: MockWebSocket as unknown as WebSocketConstructor,
      connectTimeout: 2000,
      backoff: noJitter,
    });
    client.connect();
    await vi.advanceTimersByTimeAsync(1999);
    expect(client.getSnapshot().state).toBe('connecting');
    await vi.advanceTimersByTimeAsync(2);
    expect(client.getSnapshot()).toMatchObject({ state: 'reconnecting', attempt: 2, retryIn: 200 });
    await vi.advanceTimersByTimeAsync(200);
    expect(client.getSnapshot()).toMatchObject({ state: 'connecting', attempt: 2 });
    client.close();
  });

  it('keeps an absolute heartbeat deadline: pings keep it alive, silence ends it', async () => {
    let socketRef: { send(d: string): void } | undefined;
    server.on('connection', (socket) => {
      socketRef = socket;
      socket.on('message', (data) => {
        if (String(data).includes('"connect"')) socket.send(JSON.stringify(connected(1000)));
      });
    });
    const client = createClient({ url: URL_, WebSocket: MockWebSocket as unknown as WebSocketConstructor, backoff: noJitter });
    client.connect();
    await vi.advanceTimersByTimeAsync(20);
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(900);
      socketRef?.send('{"type":"ping"}');
    }
    expect(client.getSnapshot().state).toBe('connected');
    await vi.advanceTimersByTimeAsync(2000); // allowance is heartbeat + max(1000, heartbeat / 2)
    expect(client.getSnapshot()).toMatchObject({ state: 'reconnecting', error: { code: 'heartbeat_timeout' } });
    client.close();
  });
});

describe('connection state machine with an in-process transport', () => {
  it('answers pings with pongs', async () => {
    const t = fakeTransport();
    const client = createClient({ url: URL_, transports: [t.factory] });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    t.last.push({ type: 'ping' });
    expect(t.last.sent.map((f) => f.type)).toEqual(['connect', 'pong']);
    client.close();
  });

  it('ignores every event from a transport that is no longer current', async () => {
    const t = fakeTransport();
    const client = createClient({ url: URL_, transports: [t.factory], backoff: () => 10 });
    const ch = client.channel('a');
    await vi.advanceTimersByTimeAsync(0);
    const old = t.last;
    old.open();
    old.push(connected());
    old.drop();
    await vi.advanceTimersByTimeAsync(10);
    const fresh = t.last;
    expect(fresh).not.toBe(old);
    expect(old.closedByClient).toBe(true);
    fresh.open();
    fresh.push(connected());
    // The old socket's late events must not touch the new connection.
    old.drop({ code: 'forbidden', message: 'late' });
    old.push({ type: 'close', code: 'forbidden', message: 'late' });
    expect(client.getSnapshot().state).toBe('connected');
    ch.unsubscribe();
    client.close();
  });

  it('close() cancels every timer and rejects pending publishes with `closed`', async () => {
    const t = fakeTransport();
    const client = createClient({ url: URL_, transports: [t.factory] });
    client.channel('a');
    const pending = client.publish('a', { n: 1 });
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected(1000));
    client.close();
    await expect(pending).rejects.toMatchObject({ code: 'closed', name: 'ConnectionError' });
    await vi.advanceTimersByTimeAsync(1); // the one-tick release timers of handles
    expect(vi.getTimerCount()).toBe(0);
    expect(client.getSnapshot().state).toBe('closed');
  });

  it('fails for good on a fatal close and gets one fresh token on `unauthorized`', async () => {
    const t = fakeTransport();
    const reasons: string[] = [];
    const client = createClient({
      url: URL_,
      transports: [t.factory],
      backoff: () => 0,
      getToken: ({ reason }) => {
        reasons.push(reason);
        return `tok-${reasons.length}`;
      },
    });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    expect(t.last.sent[0]).toMatchObject({ type: 'connect', token: 'tok-1' });
    t.last.push({ type: 'close', code: 'unauthorized', message: 'bad token' });
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    expect(t.last.sent[0]).toMatchObject({ type: 'connect', token: 'tok-2' });
    t.last.push({ type: 'close', code: 'unauthorized', message: 'still bad' });
    expect(reasons).toEqual(['connect', 'expired']);
    expect(client.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'unauthorized' } });
  });

  it('honours the server asking to retry later', async () => {
    const t = fakeTransport();
    const client = createClient({ url: URL_, transports: [t.factory], backoff: () => 5 });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    t.last.push({ type: 'close', code: 'going_away', message: 'deploy', retryAfter: 3000 });
    expect(client.getSnapshot()).toMatchObject({ state: 'reconnecting', retryIn: 3000 });
    client.close();
  });

  it('falls back after a failure before the first frame, but not after a transport has worked', async () => {
    const ws = fakeTransport('websocket');
    const sse = fakeTransport('sse');
    const client = createClient({ url: URL_, transports: [ws.factory, sse.factory], backoff: () => 50 });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    ws.last.drop(); // refused before any frame
    expect(client.getSnapshot()).toMatchObject({ state: 'reconnecting', transport: 'sse', retryIn: 0 });
    await vi.advanceTimersByTimeAsync(0);
    sse.last.open();
    sse.last.push(connected());
    expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: 'sse', transportReason: 'fallback' });
    sse.last.drop(); // a worked transport dropping later is a restart, not a reason to move…
    for (let i = 0; i < 150; i++) {
      await vi.advanceTimersByTimeAsync(50);
      sse.last.drop(); // …even when the restart refuses connections for several seconds
    }
    expect(client.getSnapshot()).toMatchObject({ state: 'reconnecting', transport: 'sse' });
    const tried: string[] = [];
    client.on('state', ({ to }) => to.state === 'connecting' && tried.push(to.transport));
    for (let i = 0; i < 60 && !tried.includes('websocket'); i++) {
      await vi.advanceTimersByTimeAsync(50);
      sse.last.drop();
    }
    // Past `stickyFor` (10 s) of continuous failure it is a real block: move on (wrapping around).
    expect(tried.at(-1)).toBe('websocket');
    client.close();
  });
});

import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { MemoryBroker, createServer, isTidewireServerError, type Broker, type TidewireServer } from '../src/index';
import { TestClient, silentLogger, sleep, startServer, until } from './helpers';

// Every test registers what it starts here; afterEach closes it even when an assertion failed.
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function serve(options: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(options);
  cleanups.push(() => s.server.close());
  return s;
}
async function client(url: string, token?: string) {
  const c = await TestClient.connect(url, token);
  cleanups.push(() => c.ws.terminate());
  return c;
}

describe('connect', () => {
  it('answers connect with connected', async () => {
    const { url } = await serve({ heartbeat: 5000, limits: { maxPayload: 1000 } });
    const c = await TestClient.open(url);
    cleanups.push(() => c.ws.terminate());
    c.send({ type: 'connect', v: 1 });
    const connected = await c.next('connected');
    expect(connected).toMatchObject({ v: 1, heartbeat: 5000, maxPayload: 1000 });
    expect(connected.session).toEqual(expect.any(String));
    expect(connected.expiresIn).toBeUndefined();
  });

  it('handles frames pipelined behind connect after authentication, connected first', async () => {
    const { url } = await serve({ authenticate: async () => (await sleep(30), { user: 'u' }) });
    const c = await TestClient.open(url);
    cleanups.push(() => c.ws.terminate());
    c.send({ type: 'connect', v: 1, token: 't' });
    c.send({ type: 'ping' });
    c.send({ type: 'subscribe', id: 's', channel: 'x' });
    await c.next('subscribed');
    expect(c.frames.map((f) => f.type)).toEqual(['connected', 'pong', 'subscribed']);
  });

  it('closes unsupported_version (4426) on a wrong protocol version', async () => {
    const { url } = await serve();
    const c = await TestClient.open(url);
    c.send({ type: 'connect', v: 2 });
    expect((await c.next('close')).code).toBe('unsupported_version');
    expect((await c.closed).code).toBe(4426);
  });

  it('closes protocol_error when the first frame is not connect, or none comes in time', async () => {
    const { url } = await serve({ connectTimeout: 100 });
    const a = await TestClient.open(url);
    a.send({ type: 'ping' });
    const b = await TestClient.open(url);
    expect((await a.closed).code).toBe(4400);
    expect((await b.closed).code).toBe(4400);
  });
});

describe('auth', () => {
  const authenticate = ({ token }: { token: string | undefined }) =>
    // 2 s: long enough that a loaded machine still refreshes in time, short enough to watch expire.
    token?.startsWith('ok') ? { user: token, ...(token.includes('short') && { expiresAt: Date.now() + 2_000 }) } : null;

  it('closes unauthorized (4401) when authenticate refuses or throws', async () => {
    const { url } = await serve({
      authenticate: ({ token }) => {
        if (token === 'boom') throw new Error('db down');
        return token === 'good' ? { user: 1 } : null;
      },
    });
    for (const token of ['bad', 'boom']) {
      const c = await TestClient.open(url);
      c.send({ type: 'connect', v: 1, token });
      expect(await c.next('close')).toMatchObject({ code: 'unauthorized' });
      expect((await c.closed).code).toBe(4401);
    }
    await client(url, 'good');
  });

  it('closes token_expired (4419) at expiry, unless refreshed in band', async () => {
    const { url } = await serve({ authenticate });
    const expiring = await client(url, 'ok-short');
    const refreshed = await client(url, 'ok-short');
    const connected = refreshed.all('connected')[0];
    expect(connected?.expiresIn).toBeGreaterThan(0); // what is left of 2 s: how much depends on machine load
    expect(connected?.expiresIn).toBeLessThanOrEqual(2_000);

    refreshed.send({ type: 'refresh', id: 'r0', token: 'nope' });
    expect(await refreshed.next('error')).toMatchObject({ id: 'r0', code: 'unauthorized' });
    refreshed.send({ type: 'refresh', id: 'r1', token: 'ok-long' });
    const answer = await refreshed.next('refreshed');
    expect(answer).toEqual({ type: 'refreshed', id: 'r1' }); // no expiry any more

    expect(await expiring.next('close')).toMatchObject({ code: 'token_expired' });
    expect((await expiring.closed).code).toBe(4419);
    await sleep(100);
    expect(refreshed.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('channels', () => {
  it('subscribe, publish, ack, and delivery to every subscriber including the publisher', async () => {
    const { url, server } = await serve();
    const a = await client(url);
    const b = await client(url);
    a.send({ type: 'subscribe', id: 's1', channel: 'room:1' });
    b.send({ type: 'subscribe', id: 's2', channel: 'room:1' });
    const sub = await a.next('subscribed');
    expect(sub).toMatchObject({ id: 's1', channel: 'room:1', offset: 0, recovered: true });
    await b.next('subscribed');

    a.send({ type: 'publish', id: 'p1', channel: 'room:1', data: { text: 'hi' } });
    expect(await a.next('ack')).toEqual({ type: 'ack', id: 'p1', epoch: sub.epoch, offset: 1 });
    for (const c of [a, b]) {
      expect(await c.next('message')).toEqual({ type: 'message', channel: 'room:1', epoch: sub.epoch, offset: 1, id: 'p1', data: { text: 'hi' } });
    }
    const receipt = await server.publish('room:1', 'from server');
    expect(receipt).toMatchObject({ epoch: sub.epoch, offset: 2 });
    expect(await b.next('message')).toMatchObject({ offset: 2, id: receipt.id, data: 'from server' });

    b.send({ type: 'unsubscribe', channel: 'room:1' });
    b.send({ type: 'ping' });
    await b.next('pong');
    await server.publish('room:1', 3);
    await a.next('message');
    await a.next('message');
    await sleep(20);
    expect(b.all('message').map((m) => m.offset)).toEqual([1, 2]);
    expect(server.stats()).toEqual({ sessions: 2, channels: 1 });
  });

  it('refuses unauthorized channels with forbidden and invalid names with unknown_channel', async () => {
    const { url } = await serve({ authorize: ({ channel, action }) => channel.startsWith('public:') || action === 'subscribe' && channel === 'ro' });
    const c = await client(url);
    c.send({ type: 'subscribe', id: 's1', channel: 'secret' });
    expect(await c.next('error')).toMatchObject({ id: 's1', code: 'forbidden' });
    c.send({ type: 'publish', id: 'p1', channel: 'ro', data: 1 });
    expect(await c.next('error')).toMatchObject({ id: 'p1', code: 'forbidden' });
    c.send({ type: 'subscribe', id: 's2', channel: 'has space' });
    expect(await c.next('error')).toMatchObject({ id: 's2', code: 'unknown_channel' });
    c.send({ type: 'subscribe', id: 's3', channel: 'public:x' });
    await c.next('subscribed');
  });

  it('a throwing authorize hook answers server_error and keeps the connection', async () => {
    const errors: unknown[] = [];
    const { url } = await serve({
      authorize: () => {
        throw new Error('hook bug');
      },
      logger: { warn: () => {}, error: (_m, e) => errors.push(e) },
    });
    const c = await client(url);
    c.send({ type: 'publish', id: 'p1', channel: 'x', data: 1 });
    expect(await c.next('error')).toMatchObject({ id: 'p1', code: 'server_error' });
    expect(errors).toHaveLength(1);
    c.send({ type: 'ping' });
    await c.next('pong');
  });

  it('re-subscribing replaces the subscription: no duplicate delivery', async () => {
    const { url, server } = await serve();
    const c = await client(url);
    c.send({ type: 'subscribe', id: 's1', channel: 'x' });
    c.send({ type: 'subscribe', id: 's2', channel: 'x' });
    await c.next('subscribed');
    await c.next('subscribed');
    await server.publish('x', 1);
    await c.next('message');
    await sleep(20);
    expect(c.all('message')).toHaveLength(1);
  });

  it('deduplicates a repeated publish id: same ack, stored once', async () => {
    const { url } = await serve();
    const c = await client(url);
    c.send({ type: 'subscribe', id: 's', channel: 'x' });
    await c.next('subscribed');
    c.send({ type: 'publish', id: 'same', channel: 'x', data: 'a' });
    c.send({ type: 'publish', id: 'same', channel: 'x', data: 'a' });
    c.send({ type: 'publish', id: 'other', channel: 'x', data: 'b' });
    const acks = [await c.next('ack'), await c.next('ack'), await c.next('ack')];
    expect(acks.map((a) => [a.id, a.offset])).toEqual([['same', 1], ['same', 1], ['other', 2]]);
    await c.next('message');
    await c.next('message');
    await sleep(20);
    expect(c.all('message').map((m) => m.id)).toEqual(['same', 'other']);
  });

  it('server publish: an explicit id is deduplicated; without one, each gets a new string id', async () => {
    const { server } = await serve();
    const first = await server.publish('x', 'a', { id: 'job-1' });
    expect(await server.publish('x', 'a', { id: 'job-1' })).toEqual(first);
    const generated = await Promise.all([1, 2, 3].map((i) => server.publish('x', i)));
    expect(generated.map((r) => r.offset)).toEqual([2, 3, 4]);
    const ids = generated.map((r) => r.id);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set([...ids, 'job-1']).size).toBe(4);
  });
});

describe('recovery', () => {
  it('replays exactly the missed messages in order, then continues live', async () => {
    const { url, server } = await serve();
    const a = await client(url);
    a.send({ type: 'subscribe', id: 's', channel: 'feed' });
    const { epoch } = await a.next('subscribed');
    for (let i = 1; i <= 3; i++) await server.publish('feed', i);
    await until(() => a.all('message').length === 3);
    a.ws.terminate();
    for (let i = 4; i <= 6; i++) await server.publish('feed', i);

    const b = await client(url);
    b.send({ type: 'subscribe', id: 's', channel: 'feed', since: { epoch, offset: 3 } });
    expect(await b.next('subscribed')).toMatchObject({ epoch, offset: 3, recovered: true });
    await server.publish('feed', 7);
    await until(() => b.all('message').length === 4);
    await sleep(20);
    expect(b.all('message').map((m) => [m.offset, m.data])).toEqual([[4, 4], [5, 5], [6, 6], [7, 7]]);
  });

  it('buffers live messages that arrive before the broker answers subscribe, and sends them after the replay', async () => {
    // A broker that (like a networked one) answers subscribe late while delivering live already.
    const inner = new MemoryBroker();
    // eslint-disable-next-line prefer-const -- assigned below, after the broker that calls it is built
    let publishDuringSubscribe: (() => Promise<unknown>) | undefined;
    const broker: Broker = {
      publish: (c, m) => inner.publish(c, m),
      subscribe: async (c, since, listener) => {
        const sub = await inner.subscribe(c, since, listener);
        await publishDuringSubscribe?.();
        return sub;
      },
      stats: () => inner.stats(),
      close: () => inner.close(),
    };
    const { url, server } = await serve({ broker });
    cleanups.push(() => inner.close());
    const { epoch } = await server.publish('feed', 1);
    await server.publish('feed', 2);
    publishDuringSubscribe = async () => {
      await server.publish('feed', 3);
      await server.publish('feed', 4);
    };
    const c = await client(url);
    c.send({ type: 'subscribe', id: 's', channel: 'feed', since: { epoch, offset: 0 } });
    expect(await c.next('subscribed')).toMatchObject({ offset: 0, recovered: true });
    await until(() => c.all('message').length === 4);
    await sleep(20);
    expect(c.all('message').map((m) => m.offset)).toEqual([1, 2, 3, 4]);
    expect(c.frames.findIndex((f) => f.type === 'subscribed')).toBeLessThan(c.frames.findIndex((f) => f.type === 'message'));
  });

  it('answers recovered:false at the head when history no longer covers the gap or the epoch differs', async () => {
    const { url, server } = await serve({ history: { size: 2 } });
    let epoch = '';
    for (let i = 1; i <= 5; i++) epoch = (await server.publish('feed', i)).epoch;
    const c = await client(url);
    c.send({ type: 'subscribe', id: 'trimmed', channel: 'feed', since: { epoch, offset: 1 } });
    expect(await c.next('subscribed')).toMatchObject({ id: 'trimmed', epoch, offset: 5, recovered: false });
    c.send({ type: 'subscribe', id: 'covered', channel: 'feed', since: { epoch, offset: 3 } });
    expect(await c.next('subscribed')).toMatchObject({ id: 'covered', offset: 3, recovered: true });
    c.send({ type: 'subscribe', id: 'old-epoch', channel: 'feed', since: { epoch: 'gone', offset: 5 } });
    expect(await c.next('subscribed')).toMatchObject({ id: 'old-epoch', epoch, offset: 5, recovered: false });
    await sleep(20);
    expect(c.all('message').map((m) => m.offset)).toEqual([4, 5]); // only the 'covered' replay
  });
});

describe('malformed input and limits', () => {
  it('answers bad_request and keeps the connection; closes after 10', async () => {
    const { url } = await serve();
    const c = await client(url);
    c.sendRaw('{not json');
    expect(await c.next('error')).toMatchObject({ code: 'bad_request' });
    c.sendRaw(JSON.stringify({ type: 'shout', id: 'q1' }));
    expect(await c.next('error')).toMatchObject({ id: 'q1', code: 'bad_request' });
    c.sendRaw(JSON.stringify({ type: 'publish', id: 'q2', channel: 7 }));
    expect(await c.next('error')).toMatchObject({ id: 'q2', code: 'bad_request' });
    c.send({ type: 'ping' });
    await c.next('pong');
    for (let i = 0; i < 7; i++) c.sendRaw('[]');
    expect(await c.next('close')).toMatchObject({ code: 'protocol_error' });
    expect((await c.closed).code).toBe(4400);
  });

  it('answers too_large above maxPayload and closes 4413 above the hard cap', async () => {
    const { url } = await serve({ limits: { maxPayload: 1024 } });
    const c = await client(url);
    c.send({ type: 'publish', id: 'big', channel: 'x', data: 'x'.repeat(2000) });
    expect(await c.next('error')).toMatchObject({ id: 'big', code: 'too_large' });
    c.send({ type: 'publish', id: 'huge', channel: 'x', data: 'x'.repeat(5000) });
    expect(await c.next('close')).toMatchObject({ code: 'too_large' });
    expect((await c.closed).code).toBe(4413);
  });

  it('refuses publishes over the rate with retryAfter, and closes a client at 3× the rate', async () => {
    const { url } = await serve({ limits: { rate: { perSecond: 10, burst: 5 } } });
    const c = await client(url);
    for (let i = 0; i < 8; i++) c.send({ type: 'publish', id: `p${i}`, channel: 'x', data: i });
    await until(() => c.all('ack').length + c.all('error').length === 8);
    expect(c.all('ack')).toHaveLength(5);
    const refused = c.all('error');
    expect(refused.every((e) => e.code === 'rate_limited' && (e.retryAfter ?? 0) > 0)).toBe(true);

    for (let i = 0; i < 20; i++) c.send({ type: 'ping' });
    const close = await c.next('close');
    expect(close).toMatchObject({ code: 'rate_limited' });
    expect(close.retryAfter).toBeGreaterThan(0);
    expect((await c.closed).code).toBe(4429);
  });

  it('closes a slow consumer (4408) once its buffered bytes exceed the limit', async () => {
    const { url, server } = await serve({ limits: { maxBufferedBytes: 64 * 1024 } });
    const c = await client(url);
    c.send({ type: 'subscribe', id: 's', channel: 'firehose' });
    await c.next('subscribed');
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const chunk = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 2000 && server.stats().sessions > 0; i++) {
      await server.publish('firehose', chunk);
      if (i % 20 === 0) await new Promise((r) => setImmediate(r)); // let the socket report what it has written
    }
    expect(server.stats().sessions).toBe(0);
    socket.resume();
    expect((await c.closed).code).toBe(4408);
    expect(c.all('close').at(-1)).toMatchObject({ code: 'slow_consumer' });
  });
});

describe('heartbeat', () => {
  it('pings every heartbeat; closes a silent client (4409), keeps one that answers', async () => {
    const { url } = await serve({ heartbeat: 100 });
    const silent = await client(url);
    const alive = await client(url);
    alive.ws.on('message', (d) => {
      if (JSON.parse(d.toString()).type === 'ping') alive.send({ type: 'pong' });
    });
    // Deadlines here only bound a hung test: how fast a loaded machine gets there is not the contract.
    await silent.next('ping');
    await silent.next('ping');
    expect(await silent.next('close')).toMatchObject({ code: 'heartbeat_timeout' });
    expect((await silent.closed).code).toBe(4409);
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    alive.send({ type: 'ping' });
    await alive.next('pong');
  });
});

describe('heartbeat across a wall-clock step', () => {
  it.each([
    ['back an hour', -3_600_000],
    ['forward an hour', 3_600_000],
  ])('set %s: the silent client is still closed, the one that answers is kept', async (_, step) => {
    const { url } = await serve({ heartbeat: 100 });
    const silent = await client(url);
    const alive = await client(url);
    alive.ws.on('message', (d) => {
      if (JSON.parse(d.toString()).type === 'ping') alive.send({ type: 'pong' });
    });
    // The wall clock steps (NTP, an operator, a VM resumed): heartbeat silence is measured on a monotonic clock.
    const realNow = Date.now;
    Date.now = () => realNow() + step;
    try {
      await silent.next('ping');
      expect(await silent.next('close')).toMatchObject({ code: 'heartbeat_timeout' });
      expect((await silent.closed).code).toBe(4409);
      expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      Date.now = realNow;
    }
  });
});

describe('http integration', () => {
  function appServer(): Server {
    return createHttpServer((req, res) => {
      res.writeHead(req.url === '/hello' ? 200 : 404, { 'content-type': 'text/plain' });
      res.end(req.url === '/hello' ? 'world' : 'app 404');
    });
  }
  async function listen(server: Server): Promise<number> {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
    return (server.address() as AddressInfo).port;
  }
  function get(port: number, path: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      httpRequest({ port, host: '127.0.0.1', path, headers }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject).end();
    });
  }
  function upgradeStatus(url: string, headers: Record<string, string>) {
    return new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { headers });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => (ws.close(), resolve(101)));
      ws.on('error', () => {});
    });
  }

  it("keeps the app's own routes, answers its path in JSON, and leaves other upgrades alone", async () => {
    const http = appServer();
    const tw = createServer({ logger: silentLogger }).attach(http);
    cleanups.push(() => tw.close());
    const other = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => {
      if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => ws.send('other here'));
    });
    const port = await listen(http);

    expect(await get(port, '/hello')).toEqual({ status: 200, body: 'world' });
    expect((await get(port, '/nope')).body).toBe('app 404');
    const seam = await get(port, '/tidewire');
    expect(seam.status).toBe(404);
    expect(JSON.parse(seam.body)).toMatchObject({ error: { code: 'not_found' } });

    await client(`ws://127.0.0.1:${port}/tidewire`);
    const foreign = new WebSocket(`ws://127.0.0.1:${port}/other`);
    cleanups.push(() => foreign.terminate());
    expect(await new Promise((r) => foreign.once('message', (d) => r(d.toString())))).toBe('other here');

    await tw.close();
    expect(await get(port, '/hello')).toEqual({ status: 200, body: 'world' }); // detached cleanly
  });

  it('refuses foreign browser origins with 403 before upgrading', async () => {
    const { url, port } = await serve({ allowedOrigins: ['https://app.example'] });
    expect(await upgradeStatus(url, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(url, { origin: 'null' })).toBe(403);
    expect(await upgradeStatus(url, { origin: 'https://app.example' })).toBe(101);
    expect(await upgradeStatus(url, { origin: `http://127.0.0.1:${port}` })).toBe(101); // same origin
    expect(await upgradeStatus(url, {})).toBe(101); // non-browser client
    expect((await get(port, '/tidewire', { origin: 'https://evil.example' })).status).toBe(403);
  });
});

describe('lifecycle', () => {
  it('close() sends going_away (1001) to every client, is idempotent and works with await using', async () => {
    let server: TidewireServer;
    let c: TestClient;
    {
      await using s = createServer({ logger: silentLogger });
      server = s;
      const { url } = await s.listen(0);
      c = await TestClient.connect(url);
    }
    expect(await c.next('close')).toMatchObject({ code: 'going_away' });
    expect((await c.closed).code).toBe(1001);
    await server.close(); // again: fine
    await expect(server.publish('x', 1)).rejects.toMatchObject({ code: 'closed' });
  });

  it('rejects bad options with a TidewireServerError naming the field', () => {
    const attempt = (o: unknown) => {
      try {
        createServer(o as never);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const e = attempt({ heartbeatMs: 5 });
    expect(isTidewireServerError(e) && e.code).toBe('invalid_options');
    expect(String((e as Error).message)).toContain('heartbeatMs');
    expect(attempt({ limits: { maxPayload: -1 } })).toMatchObject({ code: 'invalid_options' });
    expect(attempt({ authorize: 'yes' })).toMatchObject({ code: 'invalid_options' });
  });
});

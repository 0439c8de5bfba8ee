import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createClient, type ChannelMessage, type Client, type TransportFactory } from '@tidewire/core';
import { sse } from '@tidewire/core/sse';
import { websocket } from '@tidewire/core/websocket';
import { createServer, type FetchHandler } from '@tidewire/server';
import { injectedWebSocket } from './helpers/env';
import { until } from './helpers/servers';
import { httpTransports } from './helpers/transports';

/**
 * `server.fetchHandler()` behind the smallest Node adapter a platform would be (Node 20 has
 * Request/Response): IncomingMessage → Request, the Response streamed back. No `attach`: the
 * Tidewire server never sees a node:http object, only Fetch requests.
 */
async function serveFetch(handler: FetchHandler) {
  const sockets = new Set<Socket>();
  let requests = 0;
  const toRequest = (req: IncomingMessage, signal: AbortSignal): Request => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    return new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers,
      signal,
      ...(hasBody && { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' }),
    } as RequestInit);
  };
  const http = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    requests++;
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    void (async () => {
      const response = await handler(toRequest(req, gone.signal));
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.flushHeaders();
      if (!response.body) return void res.end();
      const reader = response.body.getReader();
      res.once('close', () => void reader.cancel().catch(() => {}));
      try {
        for (let chunk; !(chunk = await reader.read()).done; ) res.write(chunk.value);
        res.end();
      } catch {
        res.destroy();
      }
    })();
  });
  http.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tidewire`,
    /** How many requests reached the adapter so far. */
    requests: () => requests,
    /** Destroy every TCP connection from the server side, as a dying proxy would; returns how many. */
    cutAll() {
      const n = sockets.size;
      for (const socket of sockets) socket.destroy();
      return n;
    },
    close: () => {
      http.closeAllConnections();
      return new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

async function start(transport: () => TransportFactory, options: Parameters<typeof createServer>[0] = {}) {
  const server = createServer({ logger: { warn: () => {}, error: () => {} }, history: { size: 5000, ttl: 60_000 }, ...options });
  const front = await serveFetch(server.fetchHandler({ path: '/tidewire' }));
  const clients: Client[] = [];
  return {
    server,
    front,
    client(overrides: Partial<Parameters<typeof createClient>[0]> = {}) {
      const client = createClient({ url: front.url, transports: [transport()], backoff: () => 20, ...overrides });
      clients.push(client);
      return client;
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.close();
      await server.close();
      await front.close();
    },
  };
}

const transports = httpTransports;

describe.each(transports)('the fetch handler over %s', (name, transport) => {
  it('round-trips a publish and its ack, and delivers it to a second client', async () => {
    await using t = await start(transport);
    const [alice, bob] = [t.client(), t.client()];
    const got: ChannelMessage[] = [];
    bob.channel('room:1').on('message', (m) => void got.push(m));
    await until(() => bob.channel('room:1').getSnapshot().state === 'subscribed', 'bob subscribed', 20_000);
    const ack = await alice.channel('room:1').publish({ text: 'hi' });
    expect(ack).toMatchObject({ offset: 1 });
    await until(() => got.length === 1, 'bob receives', 20_000);
    expect(got[0]).toMatchObject({ data: { text: 'hi' }, offset: 1, id: ack.id });
    expect(alice.getSnapshot()).toMatchObject({ state: 'connected', transport: name });
  }, 60_000);

  it('delivers every message once, in order, across cuts of every connection', async () => {
    await using t = await start(transport);
    const subscriber = t.client();
    const values: number[] = [];
    const ch = subscriber.channel('stream');
    ch.on('message', (m) => void values.push(m.data as number));
    let reconnects = 0;
    subscriber.on('state', ({ to }) => void (to.state === 'reconnecting' && reconnects++));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed', 20_000);
    let cuts = 0;
    let drops = 0;
    for (let i = 1; i <= 300; i++) {
      await t.server.publish('stream', i);
      if (i % 50 === 0) {
        // Cut while messages are in flight; publishing goes on while the client is away.
        const seen = t.front.requests();
        cuts += t.front.cutAll() > 0 ? 1 : 0;
        // A long-poll session rides out a cut (it polls again on the same sid): every other time, also drop it.
        if (name === 'longpoll' && cuts % 2) {
          drops++;
          subscriber.disconnectTransport('test: drop the long-poll session too');
        }
        await until(() => t.front.requests() > seen, 'the client came back after the cut', 20_000);
        await until(() => ch.getSnapshot().state === 'subscribed', 'resubscribed before the next cut', 20_000);
      }
    }
    await until(() => values.length >= 300, `all 300 delivered (have ${values.length})`, 30_000);
    await new Promise((r) => setTimeout(r, 100)); // nothing extra trickles in
    expect(cuts).toBeGreaterThanOrEqual(5);
    expect(reconnects).toBeGreaterThanOrEqual(name === 'longpoll' ? drops : cuts);
    expect(values).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(ch.getSnapshot().state).toBe('subscribed');
  }, 90_000);

  it('ends the streams on server.close(), and the clients are told going_away', async () => {
    await using t = await start(transport);
    const client = t.client();
    client.connect();
    await until(() => client.getSnapshot().state === 'connected', 'connected', 20_000);
    const codes: string[] = [];
    client.on('state', ({ to }) => void (to.state === 'reconnecting' && codes.push(to.error.code)));
    await t.server.close();
    await until(() => codes.length > 0, 'the client noticed', 20_000);
    expect(codes[0]).toBe('going_away');
    expect(t.server.stats().sessions).toBe(0);
  }, 60_000);
});

describe.each(transports)('the fetch handler refusing an Origin, over %s', (_name, transport) => {
  it('fails the client at once with forbidden_origin', async () => {
    await using t = await start(transport, { allowedOrigins: ['https://app.example'] });
    const fromEvil: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('origin', 'https://evil.example');
      return fetch(input, { ...init, headers });
    };
    const client = t.client({ fetch: fromEvil });
    let attempts = 0;
    client.on('state', ({ to }) => void (to.state === 'connecting' && attempts++));
    client.connect();
    await until(() => client.getSnapshot().state === 'failed', 'failed', 20_000);
    expect(client.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'forbidden_origin' } });
    expect(attempts).toBe(1);
  }, 60_000);
});

describe('the fetch handler and WebSocket', () => {
  it('answers an upgrade 426, and a client listing websocket first falls back to SSE', async () => {
    await using t = await start(() => sse());
    // fetch() refuses to send an Upgrade header: call the handler as a platform would.
    const refused = await t.server.fetchHandler()(new Request(t.front.url, { headers: { upgrade: 'websocket' } }));
    expect(refused.status).toBe(426);
    expect(await refused.json()).toMatchObject({ error: { code: 'upgrade_unavailable' } });
    const client = createClient({
      url: t.front.url,
      transports: [websocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }) }), sse()],
      backoff: () => 20,
    });
    client.connect();
    try {
      await until(() => client.getSnapshot().state === 'connected', 'connected over a fallback', 30_000);
      expect(client.getSnapshot()).toMatchObject({ transport: 'sse' });
    } finally {
      client.close();
    }
  }, 60_000);

  it('answers paths outside its mount 404', async () => {
    await using t = await start(() => sse());
    const res = await fetch(t.front.url.replace('/tidewire', '/elsewhere'));
    expect(res.status).toBe(404);
  });
});

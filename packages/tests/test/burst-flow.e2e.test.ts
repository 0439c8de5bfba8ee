import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createClient, type Client, type TransportFactory } from '@tidewire/core';
import { createServer } from '@tidewire/server';
import { injectedWebSocket } from './helpers/env';
import { until } from './helpers/servers';
import { allTransports } from './helpers/transports';

type ServerOptions = Parameters<typeof createServer>[0];

const transports = allTransports;

type WritableInternals = {
  _write(chunk: unknown, encoding: BufferEncoding, cb: (e?: Error | null) => void): void;
  _writev?(chunks: { chunk: unknown }[], cb: (e?: Error | null) => void): void;
};

/**
 * A real server on loopback whose accepted sockets count the bytes they pass on towards the
 * kernel (`_write`/`_writev` run after corking is undone) while `counting` is on; GET polls logged.
 */
async function startCountingServer(transport: () => TransportFactory, options: ServerOptions = {}) {
  const server = createServer({ logger: { warn: () => {}, error: () => {} }, ...options });
  const { url, httpServer } = await server.listen(0);
  const state = { counting: false, bytes: 0, pollGets: 0 };
  const size = (chunk: unknown): number => (typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength);
  httpServer.on('connection', (socket: Socket) => {
    const s = socket as unknown as WritableInternals;
    const write = s._write.bind(socket);
    s._write = (chunk, encoding, cb) => {
      if (state.counting) state.bytes += size(chunk);
      write(chunk, encoding, cb);
    };
    const writev = s._writev?.bind(socket);
    if (writev) {
      s._writev = (chunks, cb) => {
        if (state.counting) for (const { chunk } of chunks) state.bytes += size(chunk);
        writev(chunks, cb);
      };
    }
  });
  // Registered after the server's own handler: when it runs, a poll is already held.
  httpServer.on('request', (req) => void (req.method === 'GET' && req.url?.includes('/poll') && state.pollGets++));
  const clients: Client[] = [];
  return {
    server,
    state,
    client(): Client {
      const c = createClient({ url, WebSocket: injectedWebSocket, backoff: () => 20, transports: [transport()] });
      clients.push(c);
      return c;
    },
    async [Symbol.asyncDispose]() {
      for (const c of clients) c.close();
      await server.close();
    },
  };
}

describe.each(transports)('a server publish loop that never yields, over %s', (name, transport) => {
  it('streams out while the loop still runs, and reaches the subscriber complete, once and in order', async () => {
    await using t = await startCountingServer(transport, { history: { size: 10_000, ttl: 60_000 } });
    const ch = t.client().channel('burst');
    const got: number[] = [];
    let pollsAtFirst = -1;
    ch.on('message', (m) => {
      if (pollsAtFirst < 0) pollsAtFirst = t.state.pollGets; // before the client polls again
      got.push((m.data as { i: number }).i);
    });
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');
    await t.server.publish('burst', { i: 0 });
    await until(() => got.length === 1, 'the first message');
    // Long polling: the next poll must be held by the server before the loop starts.
    if (name === 'longpoll') await until(() => t.state.pollGets > pollsAtFirst, 'the next poll is held');

    const n = 3000;
    const pad = 'p'.repeat(120);
    t.state.counting = true;
    for (let i = 1; i <= n; i++) void t.server.publish('burst', { i, pad });
    t.state.counting = false;
    const loopBytes = n * 150; // a lower bound of what the loop's message frames weigh
    // WebSocket and SSE write the loop out in pieces as it accumulates (before the fix: one frame,
    // the rest in one write after the loop); long polling answers its held poll mid-loop (before: after it).
    expect(t.state.bytes).toBeGreaterThanOrEqual(name === 'longpoll' ? 64 * 1024 : loopBytes / 2);
    await until(() => got.length === n + 1, `all ${n + 1} messages`, 30_000);
    expect(got).toEqual(Array.from({ length: n + 1 }, (_, i) => i));
  });
});

import { describe, expect, it } from 'vitest';
import { createClient, type Client, type TransportFactory } from '@tidewire/core';
import { createServer } from '@tidewire/server';
import { until } from './helpers/servers';
import { httpTransports } from './helpers/transports';

/**
 * A refused Origin is the server's final word: the server answers 403 with the JSON code
 * `forbidden_origin`, and an SSE or long-poll client reads that answer and fails with it at once,
 * instead of reconnecting forever with `transport_error`. (A browser WebSocket never sees the
 * upgrade's answer — a plain 1006 — so there the server log is the signal: docs/deployment.md.)
 */
const fetchFrom =
  (origin: string): typeof fetch =>
  (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('origin', origin); // what a browser page on `origin` sends
    return fetch(input, { ...init, headers });
  };

async function start() {
  const warnings: string[] = [];
  const server = createServer({ allowedOrigins: ['https://app.example'], logger: { warn: () => {}, error: (m) => void warnings.push(m) } });
  const { port } = await server.listen(0);
  const clients: Client[] = [];
  return {
    server,
    warnings,
    client(transport: TransportFactory, origin: string) {
      const client = createClient({ url: `http://127.0.0.1:${port}/tidewire`, transports: [transport], fetch: fetchFrom(origin), backoff: () => 20 });
      clients.push(client);
      return client;
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.close();
      await server.close();
    },
  };
}

const transports = httpTransports;

describe.each(transports)('a refused Origin over %s', (_name, transport) => {
  it('fails the client at once with forbidden_origin, without retrying', async () => {
    await using t = await start();
    const client = t.client(transport(), 'https://evil.example');
    let attempts = 0;
    client.on('state', ({ to }) => void (to.state === 'connecting' && attempts++));
    client.connect();
    await until(() => client.getSnapshot().state === 'failed', 'failed', 20_000);
    const snapshot = client.getSnapshot();
    expect(snapshot.state === 'failed' && snapshot.error).toMatchObject({ code: 'forbidden_origin' });
    expect(snapshot.state === 'failed' && snapshot.error.message).toContain('origin not allowed');
    await new Promise((r) => setTimeout(r, 300)); // no further attempt follows
    expect(attempts).toBe(1);
    expect(t.warnings.some((w) => w.includes('https://evil.example'))).toBe(true);
  }, 60_000);

  it('an allowed Origin connects as usual', async () => {
    await using t = await start();
    const client = t.client(transport(), 'https://app.example');
    const ack = await client.channel('room').publish('hi');
    expect(ack.offset).toBe(1);
    expect(client.getSnapshot().state).toBe('connected');
  }, 60_000);
});

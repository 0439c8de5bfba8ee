import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { createClient, type ChannelMessage, type Client, type TransportFactory } from '@tidewire/core';
import { createServer } from '@tidewire/server';
import { until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * Tidewire inside an Express 5 app (docs/server.md, "Mounting in Express and Fastify"): the http
 * server `app.listen()` returns is handed to `attach`, which serves `/tidewire` (WebSocket upgrades
 * included) and passes every other request to the app — whose body parsers never see Tidewire's.
 */
async function startExpressApp() {
  const app = express();
  app.use(express.json()); // a global body parser must not eat the transports' POST bodies
  app.get('/api/hello', (_req, res) => void res.json({ hello: 'world' }));
  app.post('/api/echo', (req, res) => void res.json({ echo: req.body as unknown }));
  const http = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const tidewire = createServer({ logger: { warn: () => {}, error: () => {} } }).attach(http, { path: '/tidewire' });
  const { port } = http.address() as AddressInfo;
  const clients: Client[] = [];
  return {
    tidewire,
    base: `http://127.0.0.1:${port}`,
    client(transport: TransportFactory) {
      const client = createClient({ url: `ws://127.0.0.1:${port}/tidewire`, transports: [transport], backoff: () => 20 });
      clients.push(client);
      return client;
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.close();
      await tidewire.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const transports = allTransports;

describe.each(transports)('Tidewire attached to an Express app, over %s', (name, transport) => {
  it('serves the real client next to the app’s own routes', async () => {
    await using app = await startExpressApp();
    const [alice, bob] = [app.client(transport()), app.client(transport())];
    const got: ChannelMessage[] = [];
    bob.channel('room:1').on('message', (m) => void got.push(m));
    await until(() => bob.channel('room:1').getSnapshot().state === 'subscribed', 'bob subscribed', 20_000);
    const ack = await alice.channel('room:1').publish({ text: 'hi' });
    await until(() => got.length === 1, 'bob receives', 20_000);
    expect(got[0]).toMatchObject({ data: { text: 'hi' }, offset: ack.offset, id: ack.id });
    expect(alice.getSnapshot()).toMatchObject({ state: 'connected', transport: name });

    // The app is untouched: its routes and its JSON body parser work as before.
    expect(await (await fetch(`${app.base}/api/hello`)).json()).toEqual({ hello: 'world' });
    const echo = await fetch(`${app.base}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await echo.json()).toEqual({ echo: { a: 1 } });
    expect((await fetch(`${app.base}/nowhere`)).status).toBe(404); // Express's own 404
  }, 60_000);

  it('recovers what was missed after the line drops', async () => {
    await using app = await startExpressApp();
    const client = app.client(transport());
    const values: unknown[] = [];
    const ch = client.channel('feed');
    ch.on('message', (m) => void values.push(m.data));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed', 20_000);
    await app.tidewire.publish('feed', 1);
    await until(() => values.length === 1, 'the first message', 20_000);
    client.disconnectTransport('test: drop the line');
    await app.tidewire.publish('feed', 2);
    await app.tidewire.publish('feed', 3);
    await until(() => values.length === 3, 'the missed messages', 20_000);
    expect(values).toEqual([1, 2, 3]);
  }, 60_000);
});

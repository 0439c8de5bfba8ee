import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createClient, type ChannelMessage, type Client, type TransportFactory } from '@tidewire/core';
import { createServer } from '@tidewire/server';
import { until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * Tidewire inside a Fastify 5 app (docs/server.md, "Mounting in Express and Fastify"): Fastify's
 * own http server, `app.server`, is handed to `attach` before `listen`; `/tidewire` (WebSocket
 * upgrades included) is Tidewire's, every other request goes to Fastify's router as before.
 */
async function startFastifyApp() {
  const app = Fastify();
  app.get('/api/hello', () => ({ hello: 'world' }));
  app.post('/api/echo', (request) => ({ echo: request.body }));
  const tidewire = createServer({ logger: { warn: () => {}, error: () => {} } }).attach(app.server, { path: '/tidewire' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
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
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

const transports = allTransports;

describe.each(transports)('Tidewire attached to a Fastify app, over %s', (name, transport) => {
  it('serves the real client next to the app’s own routes', async () => {
    await using app = await startFastifyApp();
    const [alice, bob] = [app.client(transport()), app.client(transport())];
    const got: ChannelMessage[] = [];
    bob.channel('room:1').on('message', (m) => void got.push(m));
    await until(() => bob.channel('room:1').getSnapshot().state === 'subscribed', 'bob subscribed', 20_000);
    const ack = await alice.channel('room:1').publish({ text: 'hi' });
    await until(() => got.length === 1, 'bob receives', 20_000);
    expect(got[0]).toMatchObject({ data: { text: 'hi' }, offset: ack.offset, id: ack.id });
    expect(alice.getSnapshot()).toMatchObject({ state: 'connected', transport: name });

    // The app is untouched: its routes and its JSON body parsing work as before.
    expect(await (await fetch(`${app.base}/api/hello`)).json()).toEqual({ hello: 'world' });
    const echo = await fetch(`${app.base}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await echo.json()).toEqual({ echo: { a: 1 } });
    expect((await fetch(`${app.base}/nowhere`)).status).toBe(404); // Fastify's own 404
  }, 60_000);

  it('recovers what was missed after the line drops', async () => {
    await using app = await startFastifyApp();
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

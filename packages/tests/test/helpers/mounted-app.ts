import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createClient, type ChannelMessage, type Client, type TransportFactory } from '@tidewire/core';
import { createServer, type TidewireServer } from '@tidewire/server';
import { until } from './servers';
import { allTransports } from './transports';

/** An app framework's http server with Tidewire attached, and what its routes are (see `appRoutes`). */
export interface MountedApp extends AsyncDisposable {
  readonly tidewire: TidewireServer;
  readonly base: string;
  client(transport: TransportFactory): Client;
}

/**
 * Attach Tidewire to a framework's listening http server and hand out clients of it. `stop` closes
 * the framework's side once Tidewire and the clients are gone.
 */
export function mountTidewire(http: Server, stop: () => Promise<void>): MountedApp {
  const tidewire = createServer({ logger: { warn: () => {}, error: () => {} } }).attach(http, { path: '/tidewire' });
  const { port } = http.address() as AddressInfo;
  const clients: Client[] = [];
  return {
    tidewire,
    base: `http://127.0.0.1:${port}`,
    client(transport) {
      const client = createClient({ url: `ws://127.0.0.1:${port}/tidewire`, transports: [transport], backoff: () => 20 });
      clients.push(client);
      return client;
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.close();
      await tidewire.close();
      http.closeAllConnections();
      await stop();
    },
  };
}

/**
 * The behaviour every mounting must keep, over every transport: the real client works next to the
 * app's own routes (`GET /api/hello` → `{ hello: 'world' }`, `POST /api/echo` echoes its JSON body,
 * anything else is the framework's own 404), and recovers what it missed after a drop.
 */
export function mountedAppSuite(framework: string, start: () => Promise<MountedApp>): void {
  describe.each(allTransports)(`Tidewire attached to ${framework}, over %s`, (name, transport) => {
    it('serves the real client next to the app’s own routes', async () => {
      await using app = await start();
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
      expect((await fetch(`${app.base}/nowhere`)).status).toBe(404); // the framework's own 404
    }, 60_000);

    it('recovers what was missed after the line drops', async () => {
      await using app = await start();
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
}

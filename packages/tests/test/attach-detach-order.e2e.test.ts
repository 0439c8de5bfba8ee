import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type Client } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { createServer, type TidewireServer } from '@tidewire/server';
import { injectedWebSocket } from './helpers/env';
import { until } from './helpers/servers';

/**
 * docs/server.md, attach: "`close()` undoes all of it: listeners are restored". Several attaches on one
 * http server — one Tidewire server on two paths, or two servers (a hot reload attaches the new one
 * before closing the old) — closed in any order must leave exactly the app's own request listeners:
 * closing in attach order once installed the app's handler twice (every app request ran twice: an
 * uncaught ERR_HTTP_HEADERS_SENT in a plain node:http app) and kept the closed server's route alive.
 */
const opened: http.Server[] = [];
const clients: Client[] = [];
const tidewires: TidewireServer[] = [];
const uncaught: string[] = [];
const onUncaught = (e: Error & { code?: string }): void => void uncaught.push(e.code ?? e.message);
afterEach(async () => {
  process.off('uncaughtException', onUncaught); // what would end a plain node:http app
  for (const c of clients.splice(0)) c.close();
  for (const t of tidewires.splice(0)) await t.close();
  for (const s of opened.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

type AppServer = { server: http.Server; calls: string[]; get(path: string): Promise<string>; port: number };

async function appServer(): Promise<AppServer> {
  uncaught.length = 0;
  process.on('uncaughtException', onUncaught);
  const calls: string[] = [];
  const app = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    calls.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' }).end('app');
  };
  const server = http.createServer(app);
  opened.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const get = async (path: string): Promise<string> => (await fetch(`http://127.0.0.1:${port}${path}`)).text();
  return { server, calls, get, port };
}

/** A Tidewire server attached at `path`, kept for cleanup. */
function attached(app: AppServer, path: string): TidewireServer {
  const tw = createServer().attach(app.server, { path });
  tidewires.push(tw);
  return tw;
}

/** After every attach is closed: the app alone, once per request, and no old path reaches Tidewire. */
async function expectAppAlone(app: AppServer, ...oldPaths: string[]): Promise<void> {
  app.calls.length = 0;
  expect(await app.get('/api/after')).toBe('app');
  for (const path of oldPaths) expect(await app.get(`${path}/poll`)).toBe('app');
  expect(app.calls).toEqual(['/api/after', ...oldPaths.map((p) => `${p}/poll`)]);
  expect(app.server.listeners('request')).toHaveLength(1);
  expect(uncaught).toEqual([]);
}

describe('attach / close restores exactly the app listeners', () => {
  it('one Tidewire server attached on two paths, then closed: the app runs once per request', async () => {
    const app = await appServer();
    const tw = attached(app, '/tidewire').attach(app.server, { path: '/legacy' });
    expect(await app.get('/api/1')).toBe('app');
    expect(app.calls).toEqual(['/api/1']);
    await tw.close();
    await expectAppAlone(app, '/tidewire', '/legacy');
  });

  for (const order of ['attach order (hot reload)', 'reverse order'] as const) {
    it(`two Tidewire servers on one http server, closed in ${order}: each path served until its close, the app once per request`, async () => {
      const app = await appServer();
      const first = attached(app, '/one');
      const second = attached(app, '/two');
      const [closedFirst, stillOpen, openPath, closedPath] = order === 'reverse order' ? [second, first, '/one', '/two'] : [first, second, '/two', '/one'];
      await closedFirst.close();
      app.calls.length = 0;
      expect(await app.get('/api/2')).toBe('app');
      expect(await app.get(`${closedPath}/poll`)).toBe('app'); // the closed server's route is gone
      expect(app.calls).toEqual(['/api/2', `${closedPath}/poll`]);
      // The one still open still serves clients on its path (long polling: plain requests, routed like the app's).
      const client = createClient({ url: `ws://127.0.0.1:${app.port}${openPath}`, WebSocket: injectedWebSocket, transports: [longpoll()] });
      clients.push(client);
      client.connect();
      await until(() => client.getSnapshot().state === 'connected', `a long-poll client connected on ${openPath}`);
      client.close();
      await stillOpen.close();
      await expectAppAlone(app, '/one', '/two');
    });
  }

  it('a hot reload on the same path: the new server takes every new connection, on each transport; the old one closes cleanly', async () => {
    const app = await appServer();
    const old = attached(app, '/tidewire');
    const fresh = attached(app, '/tidewire');
    const url = `ws://127.0.0.1:${app.port}/tidewire`;
    const viaWs = createClient({ url, WebSocket: injectedWebSocket });
    const viaPoll = createClient({ url, WebSocket: injectedWebSocket, transports: [longpoll()] });
    clients.push(viaWs, viaPoll);
    viaWs.connect();
    viaPoll.connect();
    const connected = (): boolean => viaWs.getSnapshot().state === 'connected' && viaPoll.getSnapshot().state === 'connected';
    await until(connected, 'both clients connected');
    expect([fresh.stats().sessions, old.stats().sessions]).toEqual([2, 0]);
    await old.close();
    expect(connected()).toBe(true); // closing the old server touched none of the new one's sessions
    expect(fresh.stats().sessions).toBe(2);
    viaWs.close();
    viaPoll.close();
    await fresh.close();
    await expectAppAlone(app, '/tidewire');
  });

  it('a request listener the app adds between two attaches is kept, and called once', async () => {
    const app = await appServer();
    const first = attached(app, '/one');
    const late: string[] = [];
    app.server.on('request', (req: http.IncomingMessage) => void late.push(req.url ?? ''));
    const second = attached(app, '/two');
    await first.close();
    await second.close();
    app.calls.length = 0;
    expect(await app.get('/api/3')).toBe('app');
    expect(app.calls).toEqual(['/api/3']);
    expect(late).toEqual(['/api/3']);
    expect(app.server.listeners('request')).toHaveLength(2);
    expect(uncaught).toEqual([]);
  });
});

import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { createServer } from '@tidewire/server';
import type { ServerOptions, TidewireServer } from '@tidewire/server';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** Headless Chromium as every browser test here launches it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface TestPageServer extends AsyncDisposable {
  /** The page, e.g. http://127.0.0.1:PORT/ (Tidewire is on /tidewire of the same origin). */
  readonly url: string;
  readonly tidewire: TidewireServer;
  /**
   * Cut (true) or restore (false) the network between pages and Tidewire only — the page itself
   * still loads, so a test can reload it "offline". Cutting also drops every open line.
   */
  cut(blocked: boolean): void;
  close(): Promise<void>;
}

/** Bundle TypeScript `source` with esbuild against the workspace sources (`@tidewire/core/...` imports work). */
async function bundleScript(source: string): Promise<string> {
  const bundle = await build({
    stdin: { contents: source, resolveDir: HERE, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['@tidewire/source'],
    write: false,
    logLevel: 'error',
  });
  return bundle.outputFiles[0]!.text;
}

/**
 * Serve one page whose script is `source` (TypeScript, bundled with esbuild against the workspace
 * sources, so `@tidewire/core/...` imports work) next to a real Tidewire server.
 * @param scripts more scripts to serve, bundled the same way, by path (e.g. `{ '/worker.js': source }` for a worker)
 */
export async function startTestPage(source: string, options: ServerOptions = {}, scripts: Record<string, string> = {}): Promise<TestPageServer> {
  const script = await bundleScript(source);
  const extra = new Map(await Promise.all(Object.entries(scripts).map(async ([path, code]) => [path, await bundleScript(code)] as const)));
  const html = '<!doctype html><meta charset="utf-8"><title>tidewire test</title><script type="module" src="/app.js"></script>';
  let blocked = false;
  const sockets = new Set<Duplex>();
  const http: HttpServer = createHttpServer((req, res) => {
    if (req.url?.startsWith('/app.js')) return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    const served = extra.get(req.url?.split('?')[0] ?? '');
    if (served !== undefined) return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(served);
    if (req.url === '/' || req.url?.startsWith('/?')) return void res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  // Registered before the Tidewire server's own listeners, so a cut answers first.
  http.prependListener('request', (req, res) => {
    if (blocked && req.url?.startsWith('/tidewire')) res.destroy();
  });
  http.prependListener('upgrade', (_req, socket: Duplex) => {
    if (blocked) return void socket.destroy();
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const tidewire = createServer({ logger: { warn: () => {}, error: () => {} }, ...options }).attach(http, { path: '/tidewire' });
  await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
  const { port } = http.address() as AddressInfo;
  const close = async () => {
    await tidewire.close();
    http.closeAllConnections();
    await new Promise<void>((done) => http.close(() => done()));
  };
  return {
    url: `http://127.0.0.1:${port}/`,
    tidewire,
    cut(value) {
      blocked = value;
      if (value) {
        for (const socket of sockets) socket.destroy();
        http.closeAllConnections(); // SSE streams and held long polls
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer } from '@tidewire/server';
import type { ServerOptions, TidewireServer } from '@tidewire/server';
import { startPublisher } from './publisher';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

export interface DashboardOptions {
  /** 0 picks a free port. Default 8787 (or $PORT). */
  port?: number;
  host?: string;
  /** The built app. Default ./dist. */
  dir?: string;
  /** Publisher tick. Default 250 ms. */
  intervalMs?: number;
  /** Tidewire server options (e.g. a short `heartbeat` in tests). */
  tidewire?: ServerOptions;
}

export interface Dashboard {
  readonly url: string;
  readonly port: number;
  readonly tidewire: TidewireServer;
  close(): Promise<void>;
}

/** One Node http server: the built app on `/`, Tidewire on `/tidewire`, and the demo publisher. */
export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const dir = resolve(options.dir ?? fileURLToPath(new URL('./dist', import.meta.url)));
  const http = createHttpServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = normalize(join(dir, pathname));
    if (!file.startsWith(dir)) return void res.writeHead(403).end();
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      await stat(file);
    } catch {
      file = join(dir, 'index.html'); // single-page app fallback
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  });
  const tidewire = createServer(options.tidewire).attach(http, { path: '/tidewire' });
  const stopPublisher = startPublisher(tidewire, { intervalMs: options.intervalMs });
  await new Promise<void>((done) => http.listen(options.port ?? 8787, options.host ?? '127.0.0.1', done));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/`,
    port,
    tidewire,
    async close() {
      stopPublisher();
      await tidewire.close();
      http.closeAllConnections();
      await new Promise<void>((done) => http.close(() => done()));
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dashboard = await startDashboard({ port: Number(process.env.PORT ?? 8787), host: process.env.HOST ?? '127.0.0.1' });
  console.log(`Vue dashboard on ${dashboard.url} (Tidewire on /tidewire). Ctrl+C to stop.`);
  process.once('SIGINT', () => void dashboard.close().then(() => process.exit(0)));
}

import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer } from '@tidewire/server';
import { serveStatic } from '../shared/serve-static';
import type { ServerOptions, TidewireServer } from '@tidewire/server';
import { startPublisher } from './publisher';
import { listen } from '../shared/listen';

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
  /** The http server the app and Tidewire share (its WebSocket upgrades arrive here). */
  readonly http: HttpServer;
  readonly tidewire: TidewireServer;
  close(): Promise<void>;
}

/** One Node http server: the built app on `/`, Tidewire on `/tidewire`, and the demo publisher. */
export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const dir = resolve(options.dir ?? fileURLToPath(new URL('./dist', import.meta.url)));
  const http = createHttpServer(serveStatic(dir));
  const tidewire = createServer(options.tidewire).attach(http, { path: '/tidewire' });
  const stopPublisher = startPublisher(tidewire, { intervalMs: options.intervalMs });
  const { port, url, stop } = await listen(http, options.port ?? 8787, options.host);
  return {
    url,
    port,
    http,
    tidewire,
    async close() {
      stopPublisher();
      await tidewire.close();
      await stop();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dashboard = await startDashboard({ port: Number(process.env.PORT ?? 8787), host: process.env.HOST ?? '127.0.0.1' });
  console.log(`Vue dashboard on ${dashboard.url} (Tidewire on /tidewire). Ctrl+C to stop.`);
  process.once('SIGINT', () => void dashboard.close().then(() => process.exit(0)));
}

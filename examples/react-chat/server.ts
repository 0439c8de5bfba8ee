import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer } from '@tidewire/server';
import { serveStatic } from '../shared/serve-static';
import type { ServerOptions, TidewireServer } from '@tidewire/server';
import { listen, buildIfMissing } from '../shared/listen';

export interface ChatServerOptions {
  /** 0 picks a free port. Default 8788 (or $PORT). */
  port?: number;
  host?: string;
  /** The built app. Default ./dist. */
  dir?: string;
  /** Tidewire server options (e.g. a short `heartbeat` in tests). */
  tidewire?: ServerOptions;
}

export interface ChatServer {
  readonly url: string;
  readonly port: number;
  readonly http: HttpServer;
  readonly tidewire: TidewireServer;
  close(): Promise<void>;
}

/** One Node http server on one port: the built app on `/`, Tidewire on `/tidewire`. */
export async function startChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
  const dir = resolve(options.dir ?? fileURLToPath(new URL('./dist', import.meta.url)));
  const http = createHttpServer(serveStatic(dir));
  const tidewire = createServer(options.tidewire).attach(http, { path: '/tidewire' });
  const host = options.host ?? '127.0.0.1';
  const { port, url, stop } = await listen(http, options.port ?? 8788, host);
  return {
    url,
    port,
    http,
    tidewire,
    async close() {
      await tidewire.close();
      await stop();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dist = fileURLToPath(new URL('./dist', import.meta.url));
  await buildIfMissing(dist, async () => (await import('./build')).buildChat(dist));
  const chat = await startChatServer({ port: Number(process.env.PORT ?? 8788), host: process.env.HOST ?? '127.0.0.1' });
  console.log(`React chat on ${chat.url} (Tidewire on /tidewire). Open it in two windows. Ctrl+C to stop.`);
  process.once('SIGINT', () => void chat.close().then(() => process.exit(0)));
}

import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer } from '@tidewire/server';
import type { ServerOptions, TidewireServer } from '@tidewire/server';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

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
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((done) => http.listen(options.port ?? 8788, host, done));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    port,
    http,
    tidewire,
    async close() {
      await tidewire.close();
      http.closeAllConnections();
      await new Promise<void>((done) => http.close(() => done()));
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dist = fileURLToPath(new URL('./dist', import.meta.url));
  if (!existsSync(join(dist, 'index.html')) || process.argv.includes('--build')) {
    console.log('Building the app…');
    const { buildChat } = await import('./build');
    await buildChat(dist);
  }
  const chat = await startChatServer({ port: Number(process.env.PORT ?? 8788), host: process.env.HOST ?? '127.0.0.1' });
  console.log(`React chat on ${chat.url} (Tidewire on /tidewire). Open it in two windows. Ctrl+C to stop.`);
  process.once('SIGINT', () => void chat.close().then(() => process.exit(0)));
}

import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

/** An example's http server, listening. */
export interface Listening {
  readonly port: number;
  /** `http://host:port/` — the page to open. */
  readonly url: string;
  /** Cut idle keep-alive connections (they would hold `close()` open) and stop listening. */
  stop(): Promise<void>;
}

/** Listen on `port` (0: any free one) and say where, with one way to stop that every example shares. */
export async function listen(http: Server, port: number, host = '127.0.0.1'): Promise<Listening> {
  await new Promise<void>((done) => http.listen(port, host, done));
  const actual = (http.address() as AddressInfo).port;
  return {
    port: actual,
    url: `http://${host}:${actual}/`,
    stop() {
      http.closeAllConnections();
      return new Promise<void>((done) => http.close(() => done()));
    },
  };
}

/** Build the app into `dist` when it is not there yet, or when started with `--build`. */
export async function buildIfMissing(dist: string, build: () => Promise<void>): Promise<void> {
  if (existsSync(join(dist, 'index.html')) && !process.argv.includes('--build')) return;
  console.log('Building the app…');
  await build();
}

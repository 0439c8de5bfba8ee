import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { createServer, type TidewireServer } from '@tidewire/server';
import { createClient, type Client, type ClientOptions } from '@tidewire/core';
import { injectedWebSocket } from './env';

type ServerOptions = Parameters<typeof createServer>[0];

export interface LoggedRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
}

export interface TestServer extends AsyncDisposable {
  readonly server: TidewireServer;
  readonly url: string;
  readonly port: number;
  /** Every HTTP request and upgrade the server saw, in order. */
  readonly requests: readonly LoggedRequest[];
  /** Destroy every TCP connection from the server side, as a dying proxy would. */
  cutAll(): number;
  client(options?: Partial<ClientOptions>): Client;
}

/**
 * A real server on a free loopback port, with every client it hands out closed on dispose.
 * `clientDefaults` apply to every `client()` (e.g. `{ transports: [sse()] }`).
 */
export async function startServer(options: ServerOptions = {}, clientDefaults: Partial<ClientOptions> = {}): Promise<TestServer> {
  const server = createServer(options);
  const { url, port, httpServer } = await server.listen(0);
  const requests: LoggedRequest[] = [];
  const log = (req: IncomingMessage) =>
    requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
  httpServer.on('request', log);
  httpServer.on('upgrade', log);
  const sockets = new Set<Socket>();
  httpServer.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const clients: Client[] = [];
  return {
    server,
    url,
    port,
    requests,
    cutAll() {
      const n = sockets.size;
      for (const socket of sockets) socket.destroy();
      return n;
    },
    client(overrides = {}) {
      const client = createClient({ url, WebSocket: injectedWebSocket, backoff: () => 20, ...clientDefaults, ...overrides });
      clients.push(client);
      return client;
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.close();
      await server.close();
    },
  };
}

/** Resolve when `predicate` holds, polling; fail with `what` after `timeout` ms. */
export async function until(predicate: () => boolean, what: string, timeout = 10_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

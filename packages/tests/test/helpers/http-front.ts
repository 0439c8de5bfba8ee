import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A plain HTTP server on a free loopback port, closed (with every connection) on dispose. */
export interface HttpFront extends AsyncDisposable {
  readonly url: string;
}

/**
 * A proxy in front of `target` (an `http://` origin) that lets `intercept` answer a request itself
 * (it returns true then: a redirect, a broken proxy's answer) and passes every other one through,
 * streaming both ways (SSE streams and held polls included).
 */
export async function httpFront(target: string, intercept: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<HttpFront> {
  return listening((req, res) => {
    if (intercept(req, res)) return;
    const upstream = request(target + req.url, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
}

/** A server answering every request with `handle`, on a free loopback port. */
export async function listening(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<HttpFront> {
  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

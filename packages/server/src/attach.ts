import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';

/** A `node:http` or `node:https` server. */
export type AnyHttpServer = HttpServer | HttpsServer;

/** Options of `attach` and `listen`: the `path` and how long a stray upgrade on another path may live. */
export interface AttachOptions {
  /** URL path the server answers on (default '/tidewire'); `<path>/…` is reserved for HTTP transports. */
  path?: string;
  /**
   * Upgrade requests for other paths are left to other 'upgrade' listeners. If
   * none has answered after this many ms the socket is ended so it does not
   * leak (like engine.io). `false`: never touch foreign upgrades. Default 1000.
   */
  destroyUpgradeTimeout?: number | false;
}

export interface RouteHandlers {
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, subPath: string): void;
  request(request: IncomingMessage, response: ServerResponse, subPath: string): void;
}

/** '' for the path itself, '/x' for `<path>/x`, undefined when the URL is not ours. */
export function matchPath(url: string | undefined, path: string): string | undefined {
  const pathname = (url ?? '/').split('?', 1)[0] ?? '/';
  if (pathname === path) return '';
  if (pathname.startsWith(path + '/')) return pathname.slice(path.length);
  return undefined;
}

/**
 * Route one path of an existing http(s) server to Tidewire, engine.io-style:
 * take over the app's 'request' listeners and call them for every other path,
 * so the app's own routes keep working. Returns a function that undoes it all.
 */
export function routeHttpServer(server: AnyHttpServer, path: string, handlers: RouteHandlers, options: AttachOptions): () => void {
  const appListeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const sub = matchPath(req.url, path);
    if (sub !== undefined) return handlers.request(req, res, sub);
    if (appListeners.length === 0) {
      // We own the only listener: answer rather than leave the request hanging.
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found');
      return;
    }
    for (const listener of appListeners) listener.call(server, req, res);
  };

  const timeout = options.destroyUpgradeTimeout ?? 1000;
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const sub = matchPath(req.url, path);
    if (sub !== undefined) return handlers.upgrade(req, socket, head, sub);
    if (timeout === false) return;
    setTimeout(() => {
      if (!socket.destroyed && socket.writable && (socket as { bytesWritten?: number }).bytesWritten === 0) socket.end();
    }, timeout).unref();
  };

  server.on('request', onRequest);
  server.on('upgrade', onUpgrade);
  return () => {
    server.off('request', onRequest);
    server.off('upgrade', onUpgrade);
    for (const listener of appListeners) server.on('request', listener);
  };
}

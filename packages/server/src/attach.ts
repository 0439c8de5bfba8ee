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

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;
interface Route {
  readonly path: string;
  readonly handlers: RouteHandlers;
  /** `destroyUpgradeTimeout` of this attach. */
  readonly upgradeTimeout: number | false;
}

/** One http server's routing, shared by every attach on it (paths of one or several Tidewire servers). */
interface Router {
  /** The app's own 'request' listeners, taken over: called for every path no route claims. */
  readonly appListeners: RequestListener[];
  /**
   * Attached routes in attach order. The latest whose path matches answers, as when each attach
   * wrapped the previous ones: a hot reload attaching the new server on the old one's path gets the
   * new requests and upgrades at once (never both servers the same socket).
   */
  readonly routes: Route[];
  /** The one 'request' and the one 'upgrade' listener installed while any route is attached. */
  readonly onRequest: RequestListener;
  readonly onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/**
 * One router per http server, not one listener per attach: when each attach took over "all current
 * listeners" (an earlier attach's among them) and its detach re-added them, closing in attach order
 * re-installed the app's handler twice — every app request ran twice (ERR_HTTP_HEADERS_SENT) and a
 * closed server's routing stayed in place. With one router, any detach order leaves exactly the
 * app's own listeners once the last route goes.
 */
const routers = new WeakMap<AnyHttpServer, Router>();

/** The latest attached route whose path matches `url`, with the sub-path. */
function routeFor(routes: readonly Route[], url: string | undefined): { route: Route; sub: string } | undefined {
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i] as Route;
    const sub = matchPath(url, route.path);
    if (sub !== undefined) return { route, sub };
  }
  return undefined;
}

function routerOf(server: AnyHttpServer): Router {
  const existing = routers.get(server);
  if (existing) {
    // Listeners the app added since the last attach are its own too: route them like the others.
    for (const listener of server.listeners('request') as RequestListener[]) {
      if (listener === existing.onRequest) continue;
      server.off('request', listener);
      existing.appListeners.push(listener);
    }
    return existing;
  }
  const appListeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const routes: Route[] = [];
  const onRequest: RequestListener = (req, res) => {
    const found = routeFor(routes, req.url);
    if (found) return found.route.handlers.request(req, res, found.sub);
    if (appListeners.length === 0) {
      // We own the only listener: answer rather than leave the request hanging.
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found');
      return;
    }
    for (const listener of appListeners) listener.call(server, req, res);
  };
  // The app's 'upgrade' listeners are not taken over: they see every upgrade, ours included.
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const found = routeFor(routes, req.url);
    if (found) return found.route.handlers.upgrade(req, socket, head, found.sub);
    // Another path: the shortest timeout any attach asked for (each attach once set its own timer).
    const timeouts = routes.flatMap((route) => (route.upgradeTimeout === false ? [] : [route.upgradeTimeout]));
    if (timeouts.length === 0) return;
    setTimeout(() => {
      if (!socket.destroyed && socket.writable && (socket as { bytesWritten?: number }).bytesWritten === 0) socket.end();
    }, Math.min(...timeouts)).unref();
  };
  const router: Router = { appListeners, routes, onRequest, onUpgrade };
  routers.set(server, router);
  server.on('request', onRequest);
  server.on('upgrade', onUpgrade);
  return router;
}

/**
 * Route one path of an existing http(s) server to Tidewire, engine.io-style:
 * take over the app's 'request' listeners and call them for every other path,
 * so the app's own routes keep working. Returns a function that undoes it (idempotent); once
 * every attach on that server is undone, in whatever order, the app's own listeners are back.
 */
export function routeHttpServer(server: AnyHttpServer, path: string, handlers: RouteHandlers, options: AttachOptions): () => void {
  const router = routerOf(server);
  const route: Route = { path, handlers, upgradeTimeout: options.destroyUpgradeTimeout ?? 1000 };
  router.routes.push(route);
  return () => {
    const at = router.routes.indexOf(route);
    if (at === -1) return; // undone already
    router.routes.splice(at, 1);
    if (router.routes.length > 0) return;
    // The last route: hand the server back to the app as it was (plus what it added since).
    routers.delete(server);
    server.off('request', router.onRequest);
    server.off('upgrade', router.onUpgrade);
    for (const listener of router.appListeners) server.on('request', listener);
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { matchPath } from './attach';
import { FetchResponseWriter, incomingFromFetch } from './fetchBridge';

/** Options of `server.fetchHandler()`. */
export interface FetchHandlerOptions {
  /**
   * The URL path the handler serves (default `'/tidewire'`): SSE at `<path>/sse`, long polling at
   * `<path>/poll`. Requests for other paths are answered 404 — mount the handler on `<path>/*`.
   */
  path?: string;
}

/** A Fetch-API request handler: `(request) => Promise<Response>`, as Next.js, Hono, Bun and Deno call it. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** What the handler needs from the server. */
export interface FetchHandlerHost {
  /** True once `close()` was called: new requests are refused `going_away`. */
  closing(): boolean;
  /** The server's one entry point for HTTP-transport requests (origin check included), as under `attach`. */
  handle(request: IncomingMessage, response: ServerResponse, subPath: string): void;
}

const jsonError = (status: number, code: string, message: string): Response =>
  new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });

/**
 * Serve the SSE and long-polling transports from a Fetch-API handler. Each request runs through
 * the same routes as under `attach` (sessions, secrets, origin check, limits); the SSE stream is the
 * Response's streaming body, a long poll is a Response that stays pending until there is something
 * to send. A WebSocket upgrade is answered 426: the platform would have to hand over the socket,
 * which the Fetch API cannot express — clients fall back to SSE or long polling by themselves.
 * @param host the server's side (see {@link FetchHandlerHost})
 * @param path the mount path
 * @returns the handler
 */
export function createFetchHandler(host: FetchHandlerHost, path: string): FetchHandler {
  return async (request) => {
    const url = new URL(request.url);
    const subPath = matchPath(url.pathname, path);
    if (subPath === undefined) return jsonError(404, 'not_found', `this handler serves ${path}/sse and ${path}/poll`);
    // Closing: a session being told `going_away` may still poll for its close frame (see shutdown.ts).
    if (host.closing() && !url.searchParams.has('sid')) return jsonError(503, 'going_away', 'server is shutting down');
    if (request.headers.get('upgrade')?.toLowerCase() === 'websocket') {
      return jsonError(426, 'upgrade_unavailable', 'WebSocket is not served by the fetch handler; use <path>/sse or <path>/poll, or attach() to a node:http server');
    }
    const writer = new FetchResponseWriter(request.signal);
    host.handle(incomingFromFetch(request, url), writer.asServerResponse(), subPath);
    return writer.response;
  };
}

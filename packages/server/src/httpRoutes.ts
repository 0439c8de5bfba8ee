import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Link } from './link';
import type { Session } from './session';

/** What an HTTP transport (SSE, long polling) gets from the server to run sessions over HTTP. */
export interface HttpRouteContext {
  /** The request path below the attach path ('' for the path itself, '/sse' for `<path>/sse`). */
  readonly subPath: string;
  openSession(link: Link, request: IncomingMessage): Session;
}

/**
 * SEAM for the HTTP transports: every non-upgrade request under the attach
 * path lands here (after the origin check). SSE and long polling will be
 * routed from this function; until they exist the path answers 404 in JSON.
 */
export function handleHttpRoute(_request: IncomingMessage, response: ServerResponse, _ctx: HttpRouteContext): void {
  sendJsonError(response, 404, 'not_found', 'no HTTP transport is enabled at this path; connect with WebSocket');
}

export function sendJsonError(response: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** Refuse an upgrade with a plain HTTP response (the socket is not a WebSocket yet). */
export function rejectUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\nContent-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

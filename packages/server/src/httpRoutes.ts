import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Link } from './link';
import type { ResolvedOptions } from './options';
import { HARD_CAP_FACTOR, type Session } from './session';
import { SECRET_HEADER, provesSecret, receiveFrames, sameAuth, type HttpSession } from './transports/http';
import { openPollSession, type PollSession } from './transports/longpoll';
import { openSseStream } from './transports/sse';
import { answerRelayed, ownedSessionIds, ownerOf, relayToOwner } from './sessionRelay';
import { endThenRelease } from './transports/endThenRelease';

/** What an HTTP transport (SSE, long polling) gets from the server to run sessions over HTTP. */
export interface HttpRouteContext {
  /** The request path below the attach path ('' for the path itself, '/sse' for `<path>/sse`). */
  readonly subPath: string;
  openSession(link: Link, request: IncomingMessage): Session;
  /**
   * Before a request that would open a session (one without a `sid` parameter, as parsed here):
   * answers and returns true when the server takes no new session now (closing, too many pending).
   */
  refuseOpen?(response: ServerResponse): boolean;
}

export type HttpRouteHandler = (request: IncomingMessage, response: ServerResponse, ctx: HttpRouteContext) => void;

/** Room for batching: a POST may carry several frames, each within the WebSocket hard cap. */
const BODY_SLACK = 64 * 1024;

/**
 * Every non-upgrade request under the attach path lands here (after the origin check):
 *
 * | request                          | answer                                             |
 * |----------------------------------|----------------------------------------------------|
 * | `GET <path>/sse`                 | event stream: `open` {sid, secret}, then frames    |
 * | `POST <path>/sse?sid=`           | upstream frames (JSON array of frame texts) → 204  |
 * | `POST <path>/poll`               | open a long-poll session → `{ sid, secret }`       |
 * | `GET <path>/poll?sid=&ack=n`     | held until frames are ready → a batch (§13.2)      |
 * | `POST <path>/poll?sid=`          | upstream frames → 204                              |
 * | `DELETE <path>/{sse,poll}?sid=`  | end the session → 204                              |
 *
 * One table of sessions per server; a sid only works with its secret (header
 * `x-tidewire-secret`) and the Authorization header that opened it, compared in constant time.
 */
export function createHttpRoutes(options: ResolvedOptions): HttpRouteHandler {
  const sessions = new Map<string, HttpSession>();
  const { sse, longpoll } = options.transports;
  const keepAlive = (typeof sse === 'object' && sse.keepAlive) || 15_000;
  const pollTimeout = (typeof longpoll === 'object' && longpoll.timeout) || 25_000;
  const pollGrace = (typeof longpoll === 'object' && longpoll.grace) || 10_000;
  const bodyLimit = options.limits.maxPayload * HARD_CAP_FACTOR + BODY_SLACK;
  const register = (sid: string, http: HttpSession): void => void sessions.set(sid, http);
  const unregister = (sid: string): void => void sessions.delete(sid);
  // With a relay (docs/scaling.md) sids name this node, and requests for other nodes' sessions go there.
  const relay = options.relay;
  const newSessionId = relay && ownedSessionIds(relay.nodeId);
  const ids = newSessionId ? { newSessionId } : {};

  const route: HttpRouteHandler = (request, response, ctx) => {
    letOriginRead(request, response); // it passed the server's check
    const kind = ctx.subPath === '/sse' ? 'sse' : ctx.subPath === '/poll' ? 'poll' : undefined;
    if (!kind) return sendJsonError(response, 404, 'not_found', 'no Tidewire endpoint here; connect with WebSocket, or use <path>/sse or <path>/poll');
    if (!(kind === 'sse' ? sse : longpoll)) return sendJsonError(response, 403, 'forbidden', `the ${kind} transport is disabled on this server`);
    const method = request.method ?? 'GET';
    if (method === 'OPTIONS') return answerPreflight(response);
    const query = new URL(request.url ?? '/', 'http://x').searchParams;
    const sid = query.get('sid');
    if (sid === null) {
      const opens = (kind === 'sse' && method === 'GET') || (kind === 'poll' && method === 'POST');
      if (opens && ctx.refuseOpen?.(response)) return;
      if (kind === 'sse' && method === 'GET') return openSseStream(request, response, { keepAlive, openSession: ctx.openSession, register, unregister, ...ids });
      if (kind === 'poll' && method === 'POST') {
        return openPollSession(request, response, { timeout: pollTimeout, grace: pollGrace, openSession: ctx.openSession, register, unregister, ...ids });
      }
      return sendJsonError(response, 400, 'bad_request', 'missing sid');
    }
    const http = sessions.get(sid);
    const owner = !http && relay ? ownerOf(sid) : undefined;
    if (relay && owner !== undefined && owner !== relay.nodeId) {
      // A held poll may wait the whole poll timeout on the owner; anything else answers at once.
      const timeout = method === 'GET' ? pollTimeout + 10_000 : 10_000;
      // A relayed batch is kept for the client as long as the owner keeps its session: poll timeout + grace.
      const keepAnswer = pollTimeout + pollGrace;
      return void relayToOwner(relay, owner, request, response, { bodyLimit, timeout, keepAnswer }).catch(() => response.destroy());
    }
    if (!http || http.kind !== kind) return sendJsonError(response, 404, 'not_found', 'unknown session');
    // The sid is in the URL (and so in logs): alone it grants nothing. Refused requests touch nothing of the session.
    if (!provesSecret(http, request)) return sendJsonError(response, 403, 'forbidden', `the ${SECRET_HEADER} header is missing or does not match the session`);
    if (!sameAuth(http, request)) return sendJsonError(response, 403, 'forbidden', 'the Authorization header does not match the session');
    if (method === 'POST') return void receiveFrames(request, response, http, bodyLimit);
    if (method === 'DELETE') {
      http.end();
      return endThenRelease(response.writeHead(204));
    }
    if (method === 'GET' && kind === 'poll') {
      const ack = Number(query.get('ack') ?? 0);
      return (http as PollSession).poll(response, Number.isSafeInteger(ack) ? ack : 0);
    }
    sendJsonError(response, 405, 'method_not_allowed', `${method} is not allowed here`);
  };
  // Relayed requests always carry a sid, so they never open a session (and need no openSession).
  relay?.serve((relayed) =>
    answerRelayed((req, res) => {
      const subPath = new URL(req.url ?? '/', 'http://x').pathname.match(/\/(sse|poll)$/)?.[0] ?? '';
      route(req, res, { subPath, openSession: () => { throw new Error('a relayed request cannot open a session'); } });
    }, relayed),
  );
  return route;
}

export function sendJsonError(response: ServerResponse, status: number, code: string, message: string, retryAfter?: number): void {
  const body = errorBody(code, message, retryAfter);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(retryAfter !== undefined && { 'retry-after': String(Math.ceil(retryAfter / 1000)) }),
  });
  endThenRelease(response, body); // like every answer the server ends: a peer that does not read it loses the socket
}

/** How long (ms) a client refused for limits.maxPendingSessions is told to wait (the body's `retryAfter`; `Retry-After` in seconds). */
export const PENDING_RETRY_AFTER = 1000;

/** The JSON body of a refusal: `{ error: { code, message, retryAfter? } }` (protocol §12, HTTP errors). */
function errorBody(code: string, message: string, retryAfter?: number): string {
  return JSON.stringify({ error: { code, message, ...(retryAfter !== undefined && { retryAfter }) } });
}

/** Refuse an upgrade with a plain HTTP response (the socket is not a WebSocket yet). */
export function rejectUpgrade(socket: Duplex, status: number, code: string, message: string, retryAfter?: number): void {
  const body = errorBody(code, message, retryAfter);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\nContent-Type: application/json; charset=utf-8\r\n' +
      (retryAfter !== undefined ? `Retry-After: ${Math.ceil(retryAfter / 1000)}\r\n` : '') +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Let the page at the request's Origin read the answer (CORS): the answer says what it says, nothing more is granted. */
export function letOriginRead(request: IncomingMessage, response: ServerResponse): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  response.setHeader('access-control-allow-origin', origin);
  response.setHeader('vary', 'origin');
}

/** A CORS preflight: the methods and headers the HTTP transports send. */
export function answerPreflight(response: ServerResponse): void {
  response.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, DELETE',
    'access-control-allow-headers': `authorization, content-type, ${SECRET_HEADER}`,
    'access-control-max-age': '600',
  });
  response.end();
}

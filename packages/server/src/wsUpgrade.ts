import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from './hooks';
import { PENDING_RETRY_AFTER, rejectUpgrade } from './httpRoutes';
import type { Link } from './link';
import type { ResolvedOptions } from './options';
import { isOriginAllowed } from './origin';
import { HARD_CAP_FACTOR, type Session } from './session';
import { TidewireWebSocket, bindWsSession, wsLink } from './transports/ws';

/** What answering a WebSocket upgrade needs from the server. */
export interface UpgradeContext {
  readonly options: ResolvedOptions;
  readonly wss: WebSocketServer;
  readonly logger: Logger;
  /** True once `close()` has begun. */
  closing(): boolean;
  /** Log a refused origin (once per origin) with what to configure. */
  reportRefusedOrigin(request: IncomingMessage): void;
  /** Why a new connection is refused now (limits.maxPendingSessions), or undefined. */
  tooManyPending(): string | undefined;
  /** Open a session on this link and count it as the server's. */
  openSession(link: Link, request: IncomingMessage): Session;
}

/** The server's WebSocket endpoint, without a server of its own (upgrades are handed to it). */
export function createWebSocketServer(options: ResolvedOptions): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    // Hard cap: frames up to 4× maxPayload are read and answered `too_large`; bigger ones are not even buffered.
    maxPayload: options.limits.maxPayload * HARD_CAP_FACTOR,
    WebSocket: TidewireWebSocket,
    // Checked in bindWsSession instead, so invalid UTF-8 gets the protocol's answer, not a bare 1007.
    skipUTF8Validation: true,
  });
}

/**
 * Answer an upgrade on the server's path: refused with an HTTP status and a protocol code while
 * closing (503), on a sub-path (404), with the transport disabled or from a refused origin (403),
 * with too many connections still in their handshake (503 `rate_limited`, limits.maxPendingSessions);
 * otherwise a WebSocket session. Never throws.
 * @param subPath - what follows the server's path ('' or '/' is the WebSocket endpoint).
 */
export function handleWsUpgrade(ctx: UpgradeContext, request: IncomingMessage, socket: Duplex, head: Buffer, subPath: string): void {
  // Until ws takes the socket over, nobody listens for its errors; a reset here must not crash the process.
  socket.on('error', () => socket.destroy());
  if (ctx.closing()) return rejectUpgrade(socket, 503, 'going_away', 'server is shutting down');
  if (subPath !== '' && subPath !== '/') return rejectUpgrade(socket, 404, 'not_found', 'no WebSocket endpoint here');
  if (!ctx.options.transports.websocket) return rejectUpgrade(socket, 403, 'forbidden', 'the websocket transport is disabled on this server');
  if (!isOriginAllowed(request, ctx.options.allowedOrigins)) {
    ctx.reportRefusedOrigin(request);
    return rejectUpgrade(socket, 403, 'forbidden_origin', 'origin not allowed (the server log says what to configure)');
  }
  const refusal = ctx.tooManyPending();
  if (refusal) return rejectUpgrade(socket, 503, 'rate_limited', refusal, PENDING_RETRY_AFTER);
  ctx.wss.handleUpgrade(request, socket, head, (ws) => {
    const session = ctx.openSession(wsLink(ws, request, socket), request);
    bindWsSession(ws, session, ctx.logger, ctx.options.limits);
    if (ctx.closing()) session.close('going_away', 'server shutting down');
  });
}

import type { WebSocket, WebSocketServer } from 'ws';
import type { AnyHttpServer } from './attach';
import type { Broker } from './broker/broker';
import type { Session } from './session';

/** Everything a server holds that its `close()` ends. */
export interface ShutdownParts {
  /** Undo each `attach` (restores the app's own listeners). */
  readonly detachers: (() => void)[];
  /** End each `server.subscribe` listener. */
  readonly inProcessSubscriptions: Iterable<() => void>;
  /** Servers made by `listen`: stopped at once, their idle connections cut at the end. */
  readonly ownedHttpServers: Iterable<AnyHttpServer>;
  readonly sessions: Iterable<Session>;
  readonly wss: WebSocketServer;
  /** The broker, when the server made it (one passed in is the caller's to close). */
  readonly ownedBroker: Broker | undefined;
}

/**
 * Close a server: stop accepting, tell every client `going_away` with its own `retryAfter` hint,
 * let the close frames leave, then release sockets, the WebSocket server, the broker and the
 * listening servers. Resolves once all of them are closed.
 */
export async function shutdown(parts: ShutdownParts): Promise<void> {
  for (const detach of parts.detachers.splice(0)) detach();
  for (const release of [...parts.inProcessSubscriptions]) release();
  // Stop listening now: a client that comes back while we close must be refused at once, not left
  // hanging on a detached route until the end — those would all fail together and retry as a herd.
  const stopped = [...parts.ownedHttpServers].map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
  closeWithRetryHints([...parts.sessions]);
  // HTTP links batch what is written in one tick and send it on the next: let the close frames leave
  // before the connections are cut, or long-poll clients never learn their hint.
  await new Promise<void>((resolve) => setImmediate(resolve));
  // Each link ends within its close grace (terminate), so this wait is bounded.
  await Promise.all([...parts.wss.clients].map(waitClosed));
  await new Promise<void>((resolve) => parts.wss.close(() => resolve()));
  if (parts.ownedBroker) await parts.ownedBroker.close();
  // Idle keep-alive sockets would otherwise hold close() open.
  for (const server of parts.ownedHttpServers) server.closeAllConnections();
  await Promise.all(stopped);
}

/**
 * Spread the herd (protocol §6.3): each client is told to come back after its own `retryAfter`,
 * uniform over a window that grows with the crowd — 20 ms per session (about 50 reconnects/s
 * whatever the size), at least 1 s, at most 60 s — instead of all at once the moment a new
 * server listens (2,000 clients: 73% of all attempts landed in one second without the hint).
 */
function closeWithRetryHints(sessions: Session[]): void {
  const window = Math.min(60_000, Math.max(1000, sessions.length * 20));
  for (const session of sessions) session.close('going_away', 'server shutting down', Math.floor(Math.random() * window));
}

function waitClosed(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise((resolve) => ws.once('close', () => resolve()));
}

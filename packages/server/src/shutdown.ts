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
  for (const release of [...parts.inProcessSubscriptions]) release();
  const sessions = [...parts.sessions];
  closeWithRetryHints(sessions);
  // HTTP links batch what is written in one tick and send it on the next, and a long-poll client
  // between two polls takes its close frame with its next poll: let the close frames leave before
  // routes and listeners go, or those clients never learn their hint and all come back at once.
  // Meanwhile a client that comes back is refused at once (503 going_away: the server is closing,
  // see server.ts), not left hanging. Bounded: a client that never polls again does not hold close() up.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await closeFramesSent(sessions, CLOSE_FRAME_GRACE_MS);
  for (const detach of parts.detachers.splice(0)) detach();
  const stopped = [...parts.ownedHttpServers].map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
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

/** Longest a closing server waits for long-poll clients to take their close frame, in ms. */
const CLOSE_FRAME_GRACE_MS = 2000;

/** Resolves once every session's close frame has left (Link.closeSent), or after `grace` ms. */
async function closeFramesSent(sessions: readonly Session[], grace: number): Promise<void> {
  const pending = sessions.flatMap((session) => session.link.closeSent?.() ?? []);
  if (pending.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(pending), new Promise<void>((resolve) => (timer = setTimeout(resolve, grace)))]);
  clearTimeout(timer);
}

function waitClosed(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise((resolve) => ws.once('close', () => resolve()));
}

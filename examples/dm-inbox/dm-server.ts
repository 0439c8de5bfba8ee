/**
 * The direct-messages Tidewire server: who may use which conversation, what a message is, and the
 * 2 s polling endpoint it replaces (kept for the side-by-side in `measure.ts`). The Next.js app
 * serves its SSE and long-polling transports from a route handler (`app/tidewire/[...path]`)
 * through `server.fetchHandler()`; `dm-singleton.ts` keeps one per process.
 */
import type { IncomingMessage } from 'node:http';
import { createServer } from '@tidewire/server';
import type { FetchHandler, TidewireServer } from '@tidewire/server';
import { conversationsOf, mayUse, SESSION_COOKIE, USERS, verifyToken } from './directory';

/** A stored message as the polling endpoint returns it. */
export interface Logged {
  readonly channel: string;
  readonly offset: number;
  readonly data: unknown;
}

/** What `/api/poll?since=N` answers: the messages of my conversations after `since`, and the next `since`. */
export interface PollAnswer {
  readonly next: number;
  readonly messages: readonly Logged[];
}

export interface DmServer {
  readonly tidewire: TidewireServer;
  /** SSE and long polling under `/tidewire`, for the route handler. */
  readonly transports: FetchHandler;
  /** The baseline's "anything new since N?" for `user`'s conversations. */
  poll(user: string, since: number): PollAnswer;
  close(): Promise<void>;
}

export interface DmServerOptions {
  /** Signs the session cookies and tokens (`signToken`). */
  readonly secret: string;
  /** Tidewire's heartbeat in ms (default 25 s); the end-to-end test shortens it to notice a cut quickly. */
  readonly heartbeat?: number;
}

/**
 * The value of one cookie in a `Cookie` request header.
 * @param header the header (`a=1; dm_session=Ada.x`), or undefined when the request has none
 * @param name the cookie's name
 * @returns its decoded value, or undefined when it is not there or is not valid %-encoding
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return undefined; // a malformed %-escape: no login, rather than a 500
    }
  }
  return undefined;
}

/**
 * The user of a Tidewire connection: the browser sends the HttpOnly session cookie with its
 * same-origin SSE and polling requests (so no token ever sits in page script or a URL); Node
 * clients (`measure.ts`, the tests) send the same signed value as a token instead.
 */
function userOf(token: string | undefined, request: IncomingMessage, secret: string): string | null {
  return verifyToken(token ?? readCookie(request.headers.cookie, SESSION_COOKIE), secret);
}

/**
 * Create the server and start following every conversation in-process for the polling baseline.
 * @param options the secret and heartbeat
 * @returns the server, its fetch handler and the polling answer
 */
export async function createDmServer(options: DmServerOptions): Promise<DmServer> {
  const { secret } = options;
  const tidewire = createServer<string>({
    ...(options.heartbeat !== undefined && { heartbeat: options.heartbeat }),
    authenticate: ({ token, request }) => {
      const user = userOf(token, request, secret);
      return user ? { user } : null;
    },
    // `dm:A:B` for A and B only, `group:ID` for its members: subscribe, history and publish alike.
    authorize: ({ user, channel }) => mayUse(user, channel),
    onPublish: ({ user, data }) => {
      const text = String((data as { text?: unknown } | null)?.text ?? '').slice(0, 2000);
      return text ? { data: { text, from: user, at: Date.now() } } : false;
    },
    logger: { warn: () => {}, error: (message, details) => console.error(message, details) },
  });

  // The polling baseline reads the same messages: every conversation followed in-process.
  const log: Logged[] = [];
  const following = await Promise.all(
    [...new Set(USERS.flatMap((u) => conversationsOf(u)))].map((channel) => tidewire.subscribe(channel, (m) => void log.push({ channel, offset: m.offset, data: m.data }))),
  );

  return {
    tidewire,
    transports: tidewire.fetchHandler({ path: '/tidewire' }),
    poll(user, since) {
      const mine = new Set(conversationsOf(user));
      return { next: log.length, messages: log.slice(since).filter((m) => mine.has(m.channel)) };
    },
    async close() {
      for (const sub of following) sub.unsubscribe();
      await tidewire.close();
    },
  };
}

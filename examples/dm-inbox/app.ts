/**
 * The direct-messages app as one Fetch-API handler (`Request → Response`), the shape of a Next.js
 * app-router route handler or a Hono app: the login API, the conversations API, the 2 s polling
 * endpoint it replaces (kept for the side-by-side), the built page, and Tidewire's SSE and
 * long-polling transports through `server.fetchHandler()`.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { createServer } from '../../packages/server/src/index';
import type { TidewireServer } from '../../packages/server/src/index';
import { conversationsOf, mayUse, signToken, USERS, verifyToken } from './directory';

export interface DmApp {
  readonly handle: (request: Request) => Promise<Response>;
  readonly tidewire: TidewireServer;
  close(): Promise<void>;
}

/** A stored message as the polling endpoint returns it. */
interface Logged {
  readonly channel: string;
  readonly offset: number;
  readonly data: unknown;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });

export async function createDmApp(options: { dir: string; secret?: string; tidewire?: { heartbeat?: number } }): Promise<DmApp> {
  const secret = options.secret ?? process.env.DM_INBOX_SECRET ?? 'dm-inbox-demo-secret';
  const tidewire = createServer<string>({
    ...options.tidewire,
    authenticate: ({ token }) => {
      const user = verifyToken(token, secret);
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
  const transports = tidewire.fetchHandler({ path: '/tidewire' });

  // The polling baseline reads the same messages: every conversation followed in-process.
  const log: Logged[] = [];
  const following = await Promise.all(
    [...new Set(USERS.flatMap((u) => conversationsOf(u)))].map((channel) => tidewire.subscribe(channel, (m) => void log.push({ channel, offset: m.offset, data: m.data }))),
  );

  const root = resolve(options.dir);
  const staticFile = async (pathname: string): Promise<Response> => {
    let file = normalize(join(root, pathname === '/' ? 'index.html' : pathname));
    if (!file.startsWith(root)) return new Response('forbidden', { status: 403 });
    const body = await readFile(file).catch(() => readFile((file = join(root, 'index.html'))));
    return new Response(body, { headers: { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' } });
  };

  const handle = async (request: Request): Promise<Response> => {
    const { pathname, searchParams } = new URL(request.url);
    if (pathname === '/tidewire' || pathname.startsWith('/tidewire/')) return transports(request);
    if (pathname === '/api/login' && request.method === 'POST') {
      const { name } = (await request.json().catch(() => ({}))) as { name?: string };
      if (!name || !(USERS as readonly string[]).includes(name)) return json({ error: `log in as one of ${USERS.join(', ')}` }, 400);
      return json({ name, token: signToken(name, secret), conversations: conversationsOf(name) });
    }
    if (pathname.startsWith('/api/')) {
      const user = verifyToken(request.headers.get('authorization')?.replace(/^Bearer /, ''), secret);
      if (!user) return json({ error: 'log in first' }, 401);
      if (pathname === '/api/conversations') return json(conversationsOf(user));
      if (pathname === '/api/poll') {
        // What the app did before Tidewire: every 2 s, "anything new since N?" for all my conversations.
        const since = Number(searchParams.get('since') ?? 0);
        const mine = new Set(conversationsOf(user));
        return json({ next: log.length, messages: log.slice(since).filter((m) => mine.has(m.channel)) });
      }
      return json({ error: 'not found' }, 404);
    }
    return staticFile(pathname);
  };

  return {
    handle,
    tidewire,
    async close() {
      for (const sub of following) sub.unsubscribe();
      await tidewire.close();
    },
  };
}

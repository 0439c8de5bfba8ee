/**
 * The social live layer's server: plain Node `http`, JWTs issued and verified with `jose`, and
 * Tidewire on `/tidewire`. A timeline (with a bot that posts now and then) and trending topics are
 * read over SSE, a chat over WebSocket; `onPublish` enforces a per-user chat rate and blocks.
 */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SignJWT, jwtVerify } from 'jose';
import { createServer, PublishRefusal, RpcError } from '../../packages/server/src/index';
import type { TidewireServer } from '../../packages/server/src/index';
import { serveStatic } from '../shared/serve-static';
import { Trending } from './trending';
import { listen, buildIfMissing } from '../shared/listen';

export interface SocialLiveOptions {
  /** 0 picks a free port. Default 8792 (or $PORT). */
  port?: number;
  /** The built browser app. Default ./dist. */
  dir?: string;
  /** Access-token lifetime in seconds. Default 30 (short on purpose: watch it refresh in-band). */
  tokenTtl?: number;
  /** How often the bot posts to the timeline, ms. Default 3000; 0: never. */
  botEvery?: number;
  /** Chat messages a user may send per window. Default 3 per 5000 ms. */
  chatRate?: { count: number; windowMs: number };
}

export interface SocialLive {
  readonly url: string;
  readonly http: HttpServer;
  readonly tidewire: TidewireServer;
  close(): Promise<void>;
}

/** Who a connection is: the JWT's subject. Anonymous connections are refused (`unauthorized`). */
interface Viewer {
  readonly name: string;
}

const BOT_POSTS = [
  'Tide tables are out for the weekend #surf #weather',
  'New release of the harbour map #maps #opensource',
  'Storm warning lifted for the bay #weather',
  'Who is going to the regatta? #sailing #events',
  'Fresh catch at the pier market #food #events',
  'The lighthouse tour opens on Sunday #events',
];

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  try {
    return JSON.parse(body || '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

export async function startSocialLive(options: SocialLiveOptions = {}): Promise<SocialLive> {
  const dir = resolve(options.dir ?? fileURLToPath(new URL('./dist', import.meta.url)));
  const secret = new TextEncoder().encode(process.env.SOCIAL_LIVE_SECRET ?? 'social-live-demo-secret-change-me');
  const ttl = options.tokenTtl ?? 30;
  const rate = options.chatRate ?? { count: 3, windowMs: 5000 };
  const trending = new Trending();
  /** blocker → the names they blocked. */
  const blocks = new Map<string, Set<string>>();
  /** name → times of their recent chat messages (the per-user rate window). */
  const sent = new Map<string, number[]>();

  const issue = (name: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(name).setIssuedAt().setExpirationTime(`${ttl}s`).sign(secret);

  const tidewire = createServer<Viewer>({
    authenticate: async ({ token, reason, user }) => {
      if (!token) return null; // authentication required: the client fails with `unauthorized`
      try {
        const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
        if (!payload.sub || !payload.exp) return null;
        if (reason === 'refresh' && user && user.name !== payload.sub) return null; // no identity switch in-band
        return { user: { name: payload.sub }, expiresAt: payload.exp * 1000 };
      } catch {
        return null; // bad signature or expired
      }
    },
    authorize: ({ channel, action }) => {
      if (channel === 'trending') return action === 'subscribe'; // the server computes it
      return channel === 'timeline' || channel === 'chat:lobby';
    },
    onPublish: ({ user, channel, data }) => {
      const text = String((data as { text?: unknown } | null)?.text ?? '').trim().slice(0, 280);
      if (!text) throw new PublishRefusal('write something first', 'bad_request');
      if (channel === 'chat:lobby') {
        const now = Date.now();
        const recent = (sent.get(user.name) ?? []).filter((t) => now - t < rate.windowMs);
        if (recent.length >= rate.count) throw new PublishRefusal(`at most ${rate.count} messages per ${rate.windowMs / 1000} s`, 'rate_limited');
        sent.set(user.name, [...recent, now]);
        for (const mention of text.matchAll(/@(\w+)/g)) {
          if (blocks.get(mention[1]!.toLowerCase())?.has(user.name.toLowerCase())) throw new PublishRefusal(`@${mention[1]} has blocked you`, 'forbidden');
        }
      }
      return { data: { text, from: user.name, at: Date.now() } };
    },
    rpc: {
      /** Block (or unblock) someone: their @mentions of you are refused from now on. */
      block: ({ user, data }) => {
        const { name, blocked } = (data ?? {}) as { name?: unknown; blocked?: unknown };
        if (typeof name !== 'string' || !name) throw new RpcError('bad_name', 'block whom?');
        const mine = blocks.get(user.name.toLowerCase()) ?? new Set<string>();
        if (blocked === false) mine.delete(name.toLowerCase());
        else mine.add(name.toLowerCase());
        blocks.set(user.name.toLowerCase(), mine);
        return { blocked: [...mine] };
      },
    },
    logger: { warn: () => {}, error: (message, details) => console.error(message, details) },
  });

  // Trending follows the timeline: every stored post updates the counts, published to `trending`.
  // (An in-process subscription: once each, in order, no socket.)
  const following = await tidewire.subscribe('timeline', (message) => {
    const { text } = message.data as { text: string };
    if (trending.add(text)) void tidewire.publish('trending', { tags: trending.top(8) });
  });

  const files = serveStatic(dir);
  const http = createHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'POST' && path === '/api/login') {
      void readJson(req).then(async (body) => {
        const name = typeof body.name === 'string' ? body.name.trim() : '';
        if (!/^[A-Za-z]\w{0,19}$/.test(name)) return json(res, 400, { error: 'a name of 1–20 letters, digits or _' });
        // A demo login. The refresh credential is an httpOnly cookie; the access token is short-lived.
        res.setHeader('set-cookie', `social_refresh=${await issue(name)}.${ttl}; HttpOnly; SameSite=Strict; Path=/api`);
        json(res, 200, { name, token: await issue(name), ttl });
      });
      return;
    }
    if (req.method === 'POST' && path === '/api/token') {
      // The in-band refresh asks here: a new short-lived token for whoever the cookie names.
      const cookie = /social_refresh=([^;]+)\.\d+/.exec(req.headers.cookie ?? '')?.[1];
      void (cookie ? jwtVerify(cookie, secret, { algorithms: ['HS256'], clockTolerance: 24 * 3600 }) : Promise.reject(new Error('no cookie'))).then(
        async ({ payload }) => json(res, 200, { token: await issue(String(payload.sub)), ttl }),
        () => json(res, 401, { error: 'log in first' }),
      );
      return;
    }
    void files(req, res);
  });
  tidewire.attach(http, { path: '/tidewire' });
  const { url, stop } = await listen(http, options.port ?? 8792);

  let post = 0;
  const botEvery = options.botEvery ?? 3000;
  const bot = botEvery > 0 ? setInterval(() => void tidewire.publish('timeline', { text: BOT_POSTS[post++ % BOT_POSTS.length], from: 'harbourbot', at: Date.now() }), botEvery) : undefined;

  return {
    url,
    http,
    tidewire,
    async close() {
      clearInterval(bot);
      following.unsubscribe();
      await tidewire.close();
      await stop();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dist = fileURLToPath(new URL('./dist', import.meta.url));
  await buildIfMissing(dist, async () => (await import('./build')).buildSocialLive(dist));
  const social = await startSocialLive({ port: Number(process.env.PORT ?? 8792) });
  console.log(`Social live layer on ${social.url}. Open it in two windows. Ctrl+C to stop.`);
  process.once('SIGINT', () => void social.close().then(() => process.exit(0)));
}

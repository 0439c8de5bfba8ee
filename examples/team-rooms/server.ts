import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { createServer, RpcError } from '@tidewire/server';
import { prometheusEndpoint } from '@tidewire/server/prometheus';
import type { ServerOptions, TidewireServer } from '@tidewire/server';
import { listen, buildIfMissing } from '../shared/listen';

export interface TeamRoomsOptions {
  /** 0 picks a free port. Default 8790 (or $PORT). */
  port?: number;
  host?: string;
  /** The built browser app. Default ./dist. */
  dir?: string;
  /** Signs login tokens. Default: a fixed demo secret (set TEAM_ROOMS_SECRET in real use). */
  secret?: string;
  /** Extra Tidewire server options (e.g. a quiet `logger` in tests). */
  tidewire?: Pick<ServerOptions, 'logger' | 'heartbeat'>;
}

export interface TeamRooms {
  readonly url: string;
  readonly http: HttpServer;
  readonly tidewire: TidewireServer;
  /** What the server last relayed per channel, as it saw it (the ops page shows it). */
  readonly relayed: ReadonlyMap<string, string>;
  close(): Promise<void>;
}

/** Team rooms are `room:<name>` (plain) and `secret:<name>` (end-to-end encrypted by the clients). */
const ROOM_CHANNEL = /^(room|secret):[a-z0-9-]{1,32}$/;
const NAME = /^[A-Za-z][A-Za-z0-9 _-]{0,23}$/;

/** A login token: `name.signature`. Signed, not encrypted: the name is not a secret. */
function signToken(name: string, secret: string): string {
  return `${Buffer.from(name).toString('base64url')}.${createHmac('sha256', secret).update(name).digest('base64url')}`;
}

/** The user a token was issued to, or null when it is missing or forged. */
function verifyToken(token: string | undefined, secret: string): string | null {
  const [encodedName, signature] = (token ?? '').split('.');
  if (!encodedName || !signature) return null;
  const name = Buffer.from(encodedName, 'base64url').toString();
  const expected = Buffer.from(signToken(name, secret).split('.')[1] ?? '');
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given) ? name : null;
}

/** `2d6` → two dice of six sides. Small bounds: this is a demo of request/response, not a casino. */
function roll(spec: unknown): { spec: string; dice: number[]; total: number } {
  const match = typeof spec === 'string' ? /^(\d{1,2})d(\d{1,3})$/.exec(spec.trim()) : null;
  const count = Number(match?.[1]);
  const sides = Number(match?.[2]);
  if (!match || count < 1 || count > 20 || sides < 2 || sides > 100) throw new RpcError('bad_dice', 'write dice as NdM, e.g. 2d6 (1–20 dice, 2–100 sides)');
  const dice = Array.from({ length: count }, () => 1 + Math.floor(Math.random() * sides));
  return { spec: `${count}d${sides}`, dice, total: dice.reduce((a, b) => a + b, 0) };
}

/**
 * The team rooms server: an Express app (login, an auth middleware in front of `/api`, the
 * Prometheus `/metrics` endpoint, the ops dashboard and the browser app) with Tidewire attached
 * to the same HTTP server on `/tidewire`.
 */
export async function startTeamRooms(options: TeamRoomsOptions = {}): Promise<TeamRooms> {
  const secret = options.secret ?? process.env.TEAM_ROOMS_SECRET ?? 'team-rooms-demo-secret';
  const dir = resolve(options.dir ?? fileURLToPath(new URL('./dist', import.meta.url)));
  const relayed = new Map<string, string>();

  const tidewire = createServer<string>({
    ...options.tidewire,
    // The same token the Express middleware checks, sent in the first frame (never the URL).
    authenticate: ({ token }) => {
      const user = verifyToken(token, secret);
      return user ? { user } : null;
    },
    authorize: ({ channel }) => ROOM_CHANNEL.test(channel),
    // The server stamps who sent each message, so nobody can post as someone else. For `secret:`
    // rooms `data` is ciphertext the server cannot read; it relays it as it is.
    onPublish: ({ user, channel, data }) => {
      if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
      relayed.set(channel, JSON.stringify(data).slice(0, 300));
      return { data: { ...data, from: user } };
    },
    rpc: {
      /** Roll dice on the server; the result is answered to the caller and posted to the room. */
      roll: async ({ user, data }) => {
        const { room, spec } = (data ?? {}) as { room?: unknown; spec?: unknown };
        if (typeof room !== 'string' || !room.startsWith('room:') || !ROOM_CHANNEL.test(room)) throw new RpcError('bad_room', 'dice roll in a plain room only');
        const result = roll(spec);
        await tidewire.publish(room, { from: user, roll: result });
        return result;
      },
    },
  });

  const app = express();
  app.use(express.json({ limit: '4kb' }));
  app.post('/api/login', (req: Request, res: Response) => {
    const name = typeof req.body?.name === 'string' ? req.body.name.trim() : '';
    if (!NAME.test(name)) return void res.status(400).json({ error: 'a name of 1–24 letters, digits, spaces, - or _' });
    res.json({ name, token: signToken(name, secret) });
  });
  // Everything else under /api needs a valid token: the same check Tidewire's authenticate makes.
  const requireUser = (req: Request, res: Response, next: NextFunction) => {
    const user = verifyToken(/^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1], secret);
    if (!user) return void res.status(401).json({ error: 'log in first' });
    res.locals.user = user;
    next();
  };
  app.get('/api/me', requireUser, (_req: Request, res: Response) => res.json({ name: res.locals.user }));
  // Operator views. In a real deployment put them behind your operator auth or an internal port.
  const prometheus = await prometheusEndpoint(tidewire);
  app.get('/metrics', (req: Request, res: Response) => prometheus.handler(req, res));
  app.get('/ops/relayed', (_req: Request, res: Response) => res.json(Object.fromEntries(relayed)));
  app.use(express.static(dir));
  app.get('/ops', (_req: Request, res: Response) => res.sendFile(join(dir, 'ops.html')));

  const http = createHttpServer(app);
  tidewire.attach(http, { path: '/tidewire' });
  const host = options.host ?? '127.0.0.1';
  const { url, stop } = await listen(http, options.port ?? 8790, host);
  return {
    url,
    http,
    tidewire,
    relayed,
    async close() {
      await tidewire.close();
      await stop();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dist = fileURLToPath(new URL('./dist', import.meta.url));
  await buildIfMissing(dist, async () => (await import('./build')).buildTeamRooms(dist));
  const rooms = await startTeamRooms({ port: Number(process.env.PORT ?? 8790), host: process.env.HOST ?? '127.0.0.1' });
  console.log(`Team rooms on ${rooms.url} (ops dashboard on ${rooms.url}ops, Prometheus on ${rooms.url}metrics). Ctrl+C to stop.`);
  process.once('SIGINT', () => void rooms.close().then(() => process.exit(0)));
}

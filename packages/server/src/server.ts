import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocketServer } from 'ws';
import { guardLogger, syncPredicate } from './appCall';
import { routeHttpServer, type AnyHttpServer, type AttachOptions } from './attach';
import type { Broker } from './broker/broker';
import { MemoryBroker } from './broker/memoryBroker';
import { systemClock, type Clock } from './clock';
import { TidewireServerError } from './errors';
import { createFetchHandler, type FetchHandler, type FetchHandlerOptions } from './fetchHandler';
import type { Logger } from './hooks';
import { PENDING_RETRY_AFTER, answerPreflight, createHttpRoutes, letOriginRead, sendJsonError, type HttpRouteHandler } from './httpRoutes';
import type { Link } from './link';
import { resolveOptions, type ResolvedOptions, type ServerOptions } from './options';
import { ServerCounters, type ServerMetrics } from './metrics';
import { isOriginAllowed, originRefusalReporter } from './origin';
import { subscribeInProcess, type ServerMessageListener, type ServerSubscribeOptions, type ServerSubscription } from './serverSubscribe';
import { publishFromServer, type PublishReceipt, type ServerPublishContext } from './serverPublish';
import type { InProcessSession, ListenResult, ServerStats } from './serverResults';
import { Session, type SessionHost } from './session';
import { shutdown } from './shutdown';
import { createWebSocketServer, handleWsUpgrade, type UpgradeContext } from './wsUpgrade';

export type { PublishReceipt } from './serverPublish';
export type { ListenResult, InProcessSession, ServerStats } from './serverResults';

/** The path `attach` and `listen` serve on unless told otherwise: `'/tidewire'`. */
export const DEFAULT_PATH = '/tidewire';

const consoleLogger: Logger = {
  warn: () => {}, // transport noise (resets, oversize frames) is routine; only failures are reported
  error: (message, details) => console.error(message, details),
};

/**
 * A Tidewire server: sessions over WebSocket, SSE and long polling on one path, the hooks, the limits and
 * the broker. Make one with {@link createServer}; serve it with `attach` or `listen`; end it with `close()`
 * (or `await using` where the runtime supports it).
 */
export class TidewireServer implements AsyncDisposable {
  readonly #options: ResolvedOptions;
  readonly #broker: Broker;
  readonly #ownsBroker: boolean;
  readonly #sessions = new Set<Session>();
  /** Sessions whose handshake is not over (limits.maxPendingSessions). */
  #pending = 0;
  #pendingWarnedAt = -Infinity;
  readonly #wss: WebSocketServer;
  readonly #upgrades: UpgradeContext;
  readonly #detachers: (() => void)[] = [];
  readonly #ownedHttpServers = new Set<AnyHttpServer>();
  readonly #host: SessionHost;
  readonly #counters = new ServerCounters();
  readonly #httpRoutes: HttpRouteHandler;
  readonly #reportRefusedOrigin: ReturnType<typeof originRefusalReporter>;
  /** `server.subscribe` listeners, each ended by `close()`. */
  readonly #inProcessSubscriptions = new Set<() => void>();
  #closing: Promise<void> | undefined;

  /** Use createServer(). */
  constructor(resolved: ResolvedOptions) {
    // App code the server calls without awaiting it must never end the process (see appCall.ts).
    const logger = guardLogger(resolved.logger ?? consoleLogger);
    const { allowedOrigins } = resolved;
    const options: ResolvedOptions = {
      ...resolved,
      isChannel: syncPredicate('isChannel()', resolved.isChannel, logger),
      ...(typeof allowedOrigins === 'function' && { allowedOrigins: syncPredicate('allowedOrigins()', allowedOrigins, logger) }),
    };
    this.#options = options;
    this.#ownsBroker = options.broker === undefined;
    this.#broker =
      options.broker ?? new MemoryBroker({ ...(options.history && { history: options.history }), ...(options.dedupe && { dedupe: options.dedupe }) });
    this.#host = {
      options,
      broker: this.#broker,
      clock: systemClock,
      logger,
      metrics: this.#counters,
      onSessionClosed: (s) => void this.#sessions.delete(s),
      onHandshakeEnded: () => void this.#pending--,
    };
    this.#httpRoutes = createHttpRoutes(options);
    this.#reportRefusedOrigin = originRefusalReporter(logger);
    this.#wss = createWebSocketServer(options);
    this.#upgrades = {
      options,
      wss: this.#wss,
      logger,
      closing: () => this.#closing !== undefined,
      reportRefusedOrigin: this.#reportRefusedOrigin,
      tooManyPending: () => this.#tooManyPending(),
      openSession: (link, request) => this.#openSession(link, request),
    };
  }

  /**
   * Serve Tidewire on `path` of an existing http(s) server; the app's other routes and upgrades keep
   * working (its `request` listeners are taken over and called for every other path; restored by `close()`).
   * May be called for several servers.
   *
   * @param httpServer - a `node:http` or `node:https` server, listening or not.
   * @param options - `path` (default `'/tidewire'`): WebSocket upgrades on it, SSE at `<path>/sse`, long
   *   polling at `<path>/poll`; `destroyUpgradeTimeout` (ms, default 1000; `false` disables): an upgrade
   *   on another path that no listener answers is ended after it.
   * @returns this server, for chaining.
   * @throws {TidewireServerError} `closed` once the server is closed.
   * @example
   * ```ts
   * const app = http.createServer(handler);
   * createServer().attach(app, { path: '/tidewire' }); // attach after installing your handler
   * app.listen(3000);
   * ```
   */
  attach(httpServer: AnyHttpServer, options: AttachOptions = {}): this {
    if (this.#closing) throw new TidewireServerError('closed', 'cannot attach: the server is closed');
    const path = options.path ?? DEFAULT_PATH;
    this.#detachers.push(
      routeHttpServer(httpServer, path, {
        upgrade: (req, socket, head, sub) => handleWsUpgrade(this.#upgrades, req, socket, head, sub),
        request: (req, res, subPath) => this.#onHttpRequest(req, res, subPath),
      }, options),
    );
    return this;
  }

  /**
   * Serve the SSE and long-polling transports from a Fetch-API handler (`Request → Response`), for
   * Next.js route handlers, Hono, Bun and Deno. Same sessions, hooks, limits and origin check as
   * `attach`; the SSE stream is a streaming body, a long poll a pending Response. WebSocket upgrades
   * are answered 426 (clients fall back); serve WebSocket with `attach` where there is a node:http server.
   * Sessions live in this process: every request of a session must reach it (no serverless fan-out).
   * @param options - `path` (default `'/tidewire'`): SSE at `<path>/sse`, long polling at `<path>/poll`.
   * @returns `(request: Request) => Promise<Response>`.
   * @example
   * ```ts
   * // app/tidewire/[...transport]/route.ts (Next.js app router)
   * const handler = server.fetchHandler({ path: '/tidewire' });
   * export { handler as GET, handler as POST, handler as DELETE, handler as OPTIONS };
   * ```
   */
  fetchHandler(options: FetchHandlerOptions = {}): FetchHandler {
    return createFetchHandler(
      { closing: () => this.#closing !== undefined, handle: (req, res, subPath) => this.#onHttpRequest(req, res, subPath) },
      options.path ?? DEFAULT_PATH,
    );
  }

  /**
   * Subscribe a function in this process to a channel — for moderation, bots, analytics — with the
   * clients' contract: each message once, in offset order; with `since`, what was stored after it
   * first, then live. Not a session: no hooks, limits or heartbeats apply. Ended by `close()`.
   * @param channel a name `isChannel` accepts
   * @param listener called with `{ channel, id, epoch, offset, data }` per message, not awaited; a throw (or an
   *   async listener's rejection) is logged, delivery goes on
   * @param options `since` (`{ epoch, offset }`): resume after it; `onGap({ epoch, offset, from, reason })`:
   *   messages were lost — history could not cover `since`, or later the broker skipped offsets or the
   *   epoch changed — called before the first message after them (a throw or rejection is logged)
   * @returns once registered: `{ epoch, offset, recovered, unsubscribe() }`
   * @throws TidewireServerError `closed`, `invalid_channel`
   * @example
   * ```ts
   * const sub = await server.subscribe('room:1', (m) => void moderate(m.data), { since: lastHandled });
   * sub.unsubscribe();
   * ```
   */
  async subscribe(channel: string, listener: ServerMessageListener, options: ServerSubscribeOptions = {}): Promise<ServerSubscription> {
    if (this.#closing) throw new TidewireServerError('closed', 'cannot subscribe: the server is closed');
    if (!this.#options.isChannel(channel)) throw new TidewireServerError('invalid_channel', `invalid channel name: ${JSON.stringify(channel)}`);
    const subscription = await subscribeInProcess(this.#broker, this.#host.logger, channel, listener, options);
    const release = (): void => {
      this.#inProcessSubscriptions.delete(release);
      subscription.unsubscribe();
    };
    // Closed while the broker was registering it: end it at once.
    if (this.#closing) subscription.unsubscribe();
    else this.#inProcessSubscriptions.add(release);
    return { ...subscription, unsubscribe: release };
  }

  #onHttpRequest(req: IncomingMessage, res: ServerResponse, subPath: string): void {
    if (!isOriginAllowed(req, this.#options.allowedOrigins)) {
      this.#reportRefusedOrigin(req);
      // The refused page may read the refusal (and its preflight passes, to reach it): its client then
      // fails `forbidden_origin` at once instead of retrying a network error forever. The request is
      // still refused; nothing is granted.
      letOriginRead(req, res);
      if (req.method === 'OPTIONS') return answerPreflight(res);
      return sendJsonError(res, 403, 'forbidden_origin', 'origin not allowed (the server log says what to configure)');
    }
    this.#httpRoutes(req, res, { subPath, openSession: (link, request) => this.#openSession(link, request), refuseOpen: (response) => this.#refuseOpen(response) });
  }

  /**
   * Whether a request that would open an HTTP session is refused, answered here. The routes decide
   * that it opens one from the parsed `sid` parameter — a substring test let `?xsid=1` open sessions
   * past both checks. Closing: only sessions being told `going_away` are still served (a long poll
   * takes its close frame).
   */
  #refuseOpen(res: ServerResponse): boolean {
    if (this.#closing) sendJsonError(res, 503, 'going_away', 'server is shutting down');
    else {
      const refusal = this.#tooManyPending();
      if (!refusal) return false;
      sendJsonError(res, 503, 'rate_limited', refusal, PENDING_RETRY_AFTER);
    }
    return true;
  }

  /**
   * Create and own an http server listening on `port`, closed again by `close()`.
   * @param port - TCP port; 0 picks a free one.
   * @param host - interface to bind (default `'127.0.0.1'`: loopback only; `'0.0.0.0'` for every interface).
   * @param options - as for `attach` (`path`, default `'/tidewire'`).
   * @returns `{ port, url, httpServer }`; `url` is the WebSocket URL, e.g. `ws://127.0.0.1:PORT/tidewire`.
   * @throws {TidewireServerError} `closed` once the server is closed; the listen error (e.g. `EADDRINUSE`) as is.
   */
  async listen(port: number, host = '127.0.0.1', options: AttachOptions = {}): Promise<ListenResult> {
    const httpServer = createHttpServer();
    this.#ownedHttpServers.add(httpServer);
    this.attach(httpServer, options);
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(port, host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    const actual = (httpServer.address() as AddressInfo).port;
    const hostname = host.includes(':') ? `[${host}]` : host;
    return { port: actual, url: `ws://${hostname}:${actual}${options.path ?? DEFAULT_PATH}`, httpServer };
  }

  /**
   * Publish from the server. `id` makes it idempotent (deduplicated like a client publish).
   * @param channel a name `isChannel` accepts
   * @param data any JSON value nesting at most `limits.maxDepth - 1` levels (it travels inside a frame), or bytes (`Uint8Array`, `Buffer`, `ArrayBuffer`): subscribers with the `binary()` codec get a `Uint8Array`
   * @param options.id idempotency key (default: a fresh id, never deduplicated)
   * @param options.except a session id (`SessionInfo.id`, e.g. from an rpc handler or a hook): that
   *   connection gets the message's position but not its data (broadcast except the sender).
   *   Applies to a session on this server process, live; a reconnect (a new session) replays it in full
   * @returns where the message was stored: `{ id, epoch, offset }`
   * @example
   * ```ts
   * const { offset } = await server.publish('news', { headline: 'hi' });
   * await server.publish('orders:42', { status: 'paid' }, { id: 'order-42-paid' }); // once, however often it runs
   * ```
   * @throws TidewireServerError `closed`, `invalid_channel`, or `invalid_data` (not JSON: a cycle,
   *   a BigInt, `undefined`; or nested too deep) — refused here rather than failing later in every subscriber's fan-out
   */
  publish(channel: string, data: unknown, options: { id?: string; except?: string } = {}): Promise<PublishReceipt> {
    // Not an async method: a publish loop pays one promise per call (the broker's), not three.
    try {
      if (this.#closing) throw new TidewireServerError('closed', 'cannot publish: the server is closed');
      return publishFromServer((this.#publishContext ??= { options: this.#options, broker: this.#broker, counters: this.#counters, sessions: this.#sessions }), channel, data, options);
    } catch (e) {
      return Promise.reject(e); // refusals reject, as documented, rather than throw
    }
  }

  /** What `publish` hands publishFromServer: the same object for every call. */
  #publishContext: ServerPublishContext | undefined;

  /** A point-in-time count: `{ sessions, channels }` (open connections, channels the broker holds). */
  stats(): ServerStats {
    return { sessions: this.#sessions.size, channels: this.#broker.stats().channels };
  }

  /**
   * What the server has done since it was created, and what it holds now: sessions per transport,
   * channels, frames and bytes in and out, publishes, refusals by code, closes by code (slow
   * consumers among them), recoveries and gaps, broker publish latency. Built on each call; the
   * counters themselves are plain fields bumped on the hot path. `@tidewire/server/prometheus`
   * exposes the same figures to Prometheus.
   * @returns a fresh {@link ServerMetrics} snapshot (counters never go down)
   * @example
   * ```ts
   * const { sessions, slowConsumerCloses, brokerLatency } = server.metrics();
   * console.log(sessions.websocket, slowConsumerCloses, brokerLatency.sumMs / brokerLatency.count);
   * ```
   */
  metrics(): ServerMetrics {
    const transports = (function* (sessions: Iterable<Session>) {
      for (const s of sessions) yield s.link.transport ?? 'in_process';
    })(this.#sessions);
    return this.#counters.snapshot(transports, this.#broker.stats().channels);
  }

  /** Tell every client `going_away`, stop accepting, release everything. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= shutdown({
      detachers: this.#detachers,
      inProcessSubscriptions: this.#inProcessSubscriptions,
      ownedHttpServers: this.#ownedHttpServers,
      sessions: this.#sessions,
      wss: this.#wss,
      ownedBroker: this.#ownsBroker ? this.#broker : undefined,
    });
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Open a session on a line the caller provides — no HTTP, no socket. `@tidewire/testing` runs
   * the real server logic in memory through this; any custom transport can too. The session is
   * exactly the one WebSocket, SSE and long polling get: same hooks, limits and heartbeats, and
   * `close()` and `stats()` count it.
   * @param link how the session sends frames and ends the line (see {@link Link}); the caller
   *   must call `linkClosed()` once the line is gone, whoever ended it.
   * @param request what the `authenticate`/`authorize` hooks see as `request` (headers, url).
   * @param options `clock`: the session's timers (connect deadline, heartbeat, token expiry).
   *   Default: the system clock.
   * @returns the inbound side: `receive(text)` for each client frame, in order.
   * @throws TidewireServerError `closed` once the server is closed.
   */
  connectInProcess(link: Link, request: IncomingMessage, options: { clock?: Clock } = {}): InProcessSession {
    if (this.#closing) throw new TidewireServerError('closed', 'cannot connect: the server is closed');
    const host = options.clock ? { ...this.#host, clock: options.clock } : this.#host;
    this.#pending++; // counted as any session (onHandshakeEnded counts it out), never refused: it is the app's own
    const session = new Session(link, request, host);
    this.#sessions.add(session);
    return { receive: (text) => session.receive(text), linkClosed: () => session.onLinkClosed() };
  }

  #openSession(link: Link, request: IncomingMessage): Session {
    this.#pending++;
    const session = new Session(link, request, this.#host);
    this.#sessions.add(session);
    return session;
  }

  /**
   * Why a new connection is refused now (limits.maxPendingSessions), or undefined. Logged once a
   * minute at most, with what to configure: an attack, or a herd larger than the limit.
   */
  #tooManyPending(): string | undefined {
    const max = this.#options.limits.maxPendingSessions;
    if (this.#pending < max) return undefined;
    const why = `too many connections waiting for their handshake (limits.maxPendingSessions = ${max})`;
    const now = performance.now(); // monotonic: a wall-clock step neither silences nor repeats the warning
    if (now - this.#pendingWarnedAt >= 60_000) {
      this.#pendingWarnedAt = now;
      this.#host.logger.warn(`tidewire: refusing new connections: ${why}; raise it if your clients really connect faster than they authenticate`);
    }
    this.#counters.refuse('rate_limited');
    return why;
  }
}

/**
 * Create a Tidewire server. Nothing listens yet: `attach(httpServer)` serves an existing http(s)
 * server, `listen(port)` creates one.
 *
 * @param options - validated at once (unknown keys are errors). The hooks: `authenticate` (default: everyone
 *   anonymous), `authorize` (default: allow), `allowedOrigins` (default: same host only). Times in ms:
 *   `heartbeat` (25 000), `connectTimeout` (10 000), `hookTimeout` (10 000). `limits`: `maxPayload`
 *   (64 KiB), `rate` (100/s, burst 200), `maxBufferedBytes` (4 MiB), `maxDepth` (64), `maxIdLength` (64),
 *   `maxSubscriptions` (1000). `broker` (default: in-memory, `history` 1000 messages / 5 min,
 *   `dedupe` 2 min). `transports` (all three on). `logger` (console). See {@link ServerOptions}
 *   and docs/survival.md for every default in one table.
 * @returns a {@link TidewireServer}.
 * @throws {TidewireServerError} `invalid_options`, naming every bad field (`history`/`dedupe` together
 *   with your own `broker` included).
 * @example
 * ```ts
 * import { createServer } from '@tidewire/server';
 *
 * const server = createServer<{ id: string }>({
 *   authenticate: async ({ token }) => (token ? { user: { id: await userIdFrom(token) } } : null),
 *   authorize: ({ user, channel }) => channel.startsWith('public:') || channel === `user:${user.id}`,
 * });
 * server.attach(httpServer, { path: '/tidewire' });
 * ```
 */
export function createServer<User = unknown>(options: ServerOptions<User> = {}): TidewireServer {
  return new TidewireServer(resolveOptions(options));
}

import { z } from 'zod';
import type { Broker } from './broker/broker';
import type { SessionRelay } from './sessionRelay';
import { defaultIsChannel } from './channelName';
import { TidewireServerError } from './errors';
import type { AllowedOrigins, Authenticate, Authorize, Logger } from './hooks';
import type { OnPublish } from './publishHook';
import type { RpcMethods } from './rpc';

/** Per-connection limits; every default in docs/survival.md. Sizes in bytes, rates per second. */
export interface LimitOptions {
  /** Largest client frame accepted, in UTF-8 bytes (default 64 KiB). Up to 4× this answers `too_large`; beyond, the connection closes. */
  maxPayload?: number;
  /** Frames per second per connection (default 100, burst 200). 3× the rate closes the connection. */
  rate?: { perSecond?: number; burst?: number };
  /**
   * Bytes queued towards one client, besides the largest frame in flight, before it is closed as `slow_consumer`
   * (default 4 MiB): one frame larger than this (a presence snapshot, a history page, an rpc result) is delivered, not
   * taken for a backlog. A replay is written in pieces that stay under half of it.
   */
  maxBufferedBytes?: number;
  /**
   * Deepest nesting of objects/arrays in a client frame, the frame object itself being level 1
   * (default 64, so a publish's `data` may nest 63 levels). Deeper frames answer `bad_request`
   * and are never stored; measured on the text without recursion.
   */
  maxDepth?: number;
  /** Longest `id` of a publish, subscribe or refresh, in characters (default 64). Longer answers `bad_request`. */
  maxIdLength?: number;
  /** Channels one session may be subscribed to at once (default 1,000). One more answers `forbidden`. */
  maxSubscriptions?: number;
  /**
   * Connections, server-wide, that have not finished their handshake (no `connect` frame yet, or
   * `authenticate` still running) (default 1,000). Each holds a session until `connectTimeout`, and a
   * long-poll session needs no open socket to be held: beyond this, new connections are refused
   * with HTTP 503 `rate_limited` (`retryAfter` 1,000 ms) on every transport, and clients retry with backoff.
   */
  maxPendingSessions?: number;
}

export interface SseOptions {
  /** A `: ping` comment is written this often (ms) so proxies keep the stream open (default 15 000). */
  keepAlive?: number;
}

export interface LongPollOptions {
  /** How long a poll is held open when there is nothing to send (ms, default 25 000). */
  timeout?: number;
  /** A session whose client has not polled for `timeout + grace` ms is closed (default 10 000). */
  grace?: number;
}

export interface TransportOptions {
  /** Default true. When false, WebSocket upgrades are refused with HTTP 403. */
  websocket?: boolean;
  /** Default true. When false, `<path>/sse` answers 403. */
  sse?: boolean | SseOptions;
  /** Default true. When false, `<path>/poll` answers 403. */
  longpoll?: boolean | LongPollOptions;
}

/**
 * What `createServer` takes; every field is optional and validated (unknown keys are errors).
 * Times are in milliseconds. All defaults in one table: docs/survival.md.
 */
export interface ServerOptions<User = unknown> {
  /** Verify the token from the `connect`/`refresh` frame. Default: everyone is anonymous (user null). */
  authenticate?: Authenticate<User>;
  /** Allow a subscribe or publish. Default: allow. */
  authorize?: Authorize<User>;
  /** Server ping interval in ms (default 25 000). Clients silent for 2× this + 1 s are closed. */
  heartbeat?: number;
  /** Time allowed for the `connect` frame, in ms (default 10 000). */
  connectTimeout?: number;
  /**
   * Time allowed for one `authenticate` or `authorize` call, in ms (default 10 000). Past it the
   * request fails and the session moves on: `connect` closes `server_error`, a refresh, subscribe
   * or publish answers `error server_error`. A late answer is ignored.
   */
  hookTimeout?: number;
  limits?: LimitOptions;
  /** Valid channel names. Default: /^[A-Za-z0-9_:.\-@/=+*]{1,200}$/. */
  isChannel?: (name: string) => boolean;
  /** Browser origins allowed besides same-origin. `'*'` in the list allows all. */
  allowedOrigins?: AllowedOrigins;
  /** Channel storage and fan-out. Default: a MemoryBroker built from `history` and `dedupe`. */
  broker?: Broker;
  /** Default broker only: per-channel history (default 1000 messages, 5 min, 8 MiB of frame text). */
  history?: { size?: number; ttl?: number; maxBytes?: number };
  /** Default broker only: publish-id dedupe window (default 2 min, 10 000 ids per channel). */
  dedupe?: { window?: number; size?: number };
  /** Where hook failures and transport errors are reported. Default: console. */
  logger?: Logger;
  /** Which transports are served (all by default) and their HTTP settings. */
  transports?: TransportOptions;
  /**
   * Request/response methods clients call with `rpc(client, method, data)`: name → handler, or
   * `{ input?, output?, handler }` with Standard Schema validators. A handler throwing `RpcError`
   * refuses with the app's code; it is awaited at most `hookTimeout` ms. See docs/server.md "RPC".
   */
  rpc?: RpcMethods<User>;
  /**
   * Called for every client publish after `authorize`: return nothing to pass it, `{ data }` to
   * store that instead, or throw `PublishRefusal` (or return `{ refuse: { code, message } }`) to
   * refuse it. Awaited at most `hookTimeout` ms. See docs/server.md "onPublish".
   */
  onPublish?: OnPublish<User>;
  /**
   * Sticky-free SSE and long polling across several processes: a session's requests that reach
   * another process are relayed to the one that owns it (e.g. `broker.sessionRelay()` from
   * `@tidewire/redis`). Default: none — every request of a session must reach its process.
   * See docs/scaling.md.
   */
  relay?: SessionRelay;
}

const fn = <T>(what: string) =>
  z.custom<T>((v) => typeof v === 'function', { message: `${what} must be a function` });
const ms = (max = 2 ** 31 - 1) => z.number().int().positive().max(max); // setTimeout's ceiling
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** The memory broker's options, checked the same whether `createServer` builds it or an app (or the test kit) does. */
const historyOptions = z.object({ size: count.optional(), ttl: ms().optional(), maxBytes: count.optional() }).strict();
const dedupeOptions = z.object({ window: ms().optional(), size: count.optional() }).strict();
const memoryBrokerOptions = z
  .object({ history: historyOptions.optional(), dedupe: dedupeOptions.optional(), sweepInterval: ms().optional(), clock: z.unknown().optional() })
  .strict();

const brokerSchema = z.custom<Broker>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    ['publish', 'subscribe', 'stats', 'close'].every((k) => typeof (v as Record<string, unknown>)[k] === 'function'),
  { message: 'broker must implement publish, subscribe, stats and close' },
);

const loggerSchema = z.custom<Logger>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Logger).warn === 'function' &&
    typeof (v as Logger).error === 'function',
  { message: 'logger must have warn() and error()' },
);

/** Every limit's default, documented in docs/server.md's limits table. */
const DEFAULT_LIMITS = {
  maxPayload: 64 * 1024,
  rate: { perSecond: 100, burst: 200 },
  maxBufferedBytes: 4 * 1024 * 1024,
  maxDepth: 64,
  maxIdLength: 64,
  maxSubscriptions: 1000,
  maxPendingSessions: 1000,
};

// .strict(): a misspelt option (`heartbeatMs`) is an error, not a silent default.
const schema = z
  .object({
    authenticate: fn<Authenticate<unknown>>('authenticate').optional(),
    authorize: fn<Authorize<unknown>>('authorize').optional(),
    heartbeat: ms().min(10).default(25_000),
    connectTimeout: ms().default(10_000),
    hookTimeout: ms().default(10_000),
    limits: z
      .object({
        maxPayload: z.number().int().min(256).max(256 * 1024 * 1024).default(DEFAULT_LIMITS.maxPayload),
        rate: z
          .object({ perSecond: z.number().positive().default(100), burst: z.number().min(1).default(200) })
          .strict()
          .default({ perSecond: 100, burst: 200 }),
        maxBufferedBytes: z.number().int().positive().default(DEFAULT_LIMITS.maxBufferedBytes),
        maxDepth: z.number().int().min(2).max(10_000).default(DEFAULT_LIMITS.maxDepth),
        maxIdLength: z.number().int().min(1).max(4096).default(DEFAULT_LIMITS.maxIdLength),
        maxSubscriptions: z.number().int().positive().default(DEFAULT_LIMITS.maxSubscriptions),
        maxPendingSessions: z.number().int().positive().default(DEFAULT_LIMITS.maxPendingSessions),
      })
      .strict()
      .default(DEFAULT_LIMITS),
    isChannel: fn<(name: string) => boolean>('isChannel').default(() => defaultIsChannel),
    allowedOrigins: z
      .union([z.array(z.string()).readonly(), fn<(origin: string) => boolean>('allowedOrigins')])
      .optional(),
    broker: brokerSchema.optional(),
    history: historyOptions.optional(),
    dedupe: dedupeOptions.optional(),
    logger: loggerSchema.optional(),
    rpc: z
      .custom<RpcMethods<unknown>>(
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          Object.values(v).every((m) => typeof m === 'function' || (typeof m === 'object' && m !== null && typeof (m as { handler?: unknown }).handler === 'function')),
        { message: 'rpc must map method names to a function or { handler, input?, output? }' },
      )
      .optional(),
    onPublish: fn<OnPublish<unknown>>('onPublish').optional(),
    relay: z
      .custom<SessionRelay>(
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          typeof (v as SessionRelay).nodeId === 'string' &&
          /^[A-Za-z0-9_-]+$/.test((v as SessionRelay).nodeId) &&
          typeof (v as SessionRelay).serve === 'function' &&
          typeof (v as SessionRelay).forward === 'function',
        { message: 'relay must have a nodeId ([A-Za-z0-9_-]+), serve() and forward()' },
      )
      .optional(),
    transports: z
      .object({
        websocket: z.boolean().default(true),
        sse: z.union([z.boolean(), z.object({ keepAlive: ms().optional() }).strict()]).default(true),
        longpoll: z
          .union([z.boolean(), z.object({ timeout: ms().optional(), grace: ms().optional() }).strict()])
          .default(true),
      })
      .strict()
      .default({ websocket: true, sse: true, longpoll: true }),
  })
  .strict();

export type ResolvedOptions = z.output<typeof schema>;

/**
 * Check `new MemoryBroker(options)`'s options: a misspelt key or a negative size would run on
 * defaults or break the history ring.
 * @throws TidewireServerError `invalid_options`, naming every bad field
 */
export function checkMemoryBrokerOptions(options: unknown): void {
  const result = memoryBrokerOptions.safeParse(options ?? {});
  if (!result.success) throw new TidewireServerError('invalid_options', `Invalid MemoryBroker options:\n${z.prettifyError(result.error)}`, { cause: result.error });
}

/** Validate and fill defaults. Throws TidewireServerError('invalid_options') naming every bad field. */
export function resolveOptions(options: unknown): ResolvedOptions {
  const result = schema.safeParse(options ?? {});
  if (!result.success) {
    throw new TidewireServerError(
      'invalid_options',
      `Invalid Tidewire server options:\n${z.prettifyError(result.error)}`,
      { cause: result.error },
    );
  }
  if (result.data.broker && (result.data.history || result.data.dedupe)) {
    throw new TidewireServerError(
      'invalid_options',
      'Invalid Tidewire server options: `history` and `dedupe` configure the default broker; configure your own `broker` directly instead',
    );
  }
  return result.data;
}

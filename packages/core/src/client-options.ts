import type { Backoff } from './backoff';
import type { Clock } from './clock';
import type { StateChange } from './connection-state';
import { TidewireError } from './errors';
import type { OutboxStorage } from './outbox-storage';
import type { PayloadCodec } from './payload-codec';
import type { GetToken } from './token';
import type { TransportFactory, WebSocketConstructor } from './transport';
import type { PlanOptions, TransportPlan } from './transport-plan';
import { singleTransportPlan } from './transport-plan';
import { websocket } from './transports/websocket';

/**
 * What `createClient` takes. Only `url` is required; times are in milliseconds.
 * Transport selection options (`fallbackAfter`, `stickyFor`, `upgradeDelay`, `transportMemory`) are
 * described in docs/transports.md.
 */
export interface ClientOptions extends Omit<PlanOptions, 'url'> {
  /** The server endpoint, e.g. `wss://example.com/tidewire` (http(s) works too). */
  url: string;
  token?: string;
  /** Called for a token before connecting, before it expires, and once after it is refused. */
  getToken?: GetToken;
  /** A WebSocket implementation where there is no global one (Node 20: `ws`). */
  WebSocket?: WebSocketConstructor;
  fetch?: typeof globalThis.fetch;
  /** Transports in order of preference. Default: `[websocket()]`. */
  transports?: readonly TransportFactory[];
  backoff?: Backoff;
  clock?: Clock;
  /** Deadline for the server's first frame on a new transport. Default 5 s. */
  connectTimeout?: number;
  /** Milliseconds from sending a publish on a line to its ack (time spent queued does not count). Default 10 s. */
  publishTimeout?: number;
  /**
   * Milliseconds a publish may wait unsent — offline, or paced behind the server's rate limit —
   * counted from publish() or from the drop that took its line away. Default 5 min; `Infinity`: no limit.
   */
  queueTimeout?: number;
  /** Milliseconds a sent subscribe may go unanswered before it is sent again (with backoff). Default 10 s. */
  subscribeTimeout?: number;
  /** Unacknowledged publishes held at most. Default 1000. */
  maxQueue?: number;
  /** While not connected: 'queue' publishes (default) or 'fail' them at once. */
  offline?: 'queue' | 'fail';
  /** How long an out-of-order message waits for the hole before recovery from history. Default 1 s. */
  reorderWindow?: number;
  /** Delay before the last released handle really unsubscribes (one tick by default). */
  releaseDelay?: number;
  /** Connect on first channel use (default) rather than on `connect()` only. */
  lazy?: boolean;
  /**
   * `false`: this client's own publishes are not delivered back to it as `message` events (they
   * still advance the channel's position, so offsets stay consecutive and nothing is recovered
   * twice). Recognised by the publish id, so it holds across reconnects and replays. Default true.
   */
  echo?: boolean;
  /**
   * How `data` is carried in frames (publish, rpc, messages, rpc results). Default: none — data is
   * JSON as it is. `binary()` from `@tidewire/core/binary` adds bytes (`Uint8Array`, `ArrayBuffer`, `Blob`).
   */
  codec?: PayloadCodec;
  /**
   * Where unacknowledged publishes are kept so they survive a reload or a crash: `indexedDbOutbox()`
   * from `@tidewire/core/idb`, `fileOutbox(path)` from `@tidewire/core/file-outbox`, `memoryOutbox()`,
   * or any {@link OutboxStorage}. What a previous run left is sent on start, before new publishes,
   * with its ids (the server stores each once). Default: none (pending publishes live in memory).
   */
  outboxStorage?: OutboxStorage;
}

/**
 * The client's events (`client.on(event, listener)`): `state` — every connection transition
 * `{ from, to, reason }`; `error` — problems that end nothing (refused requests, invalid frames, and
 * `listener_error` when app code — a listener, a schema, the codec, `outboxStorage`, `getToken`, `backoff` — threw or answered garbage). A throw
 * inside an `error` listener goes to `globalThis.reportError` (else is rethrown from a new task).
 * A publish the server refused `rate_limited` is retried, not rejected, and reported here
 * (`context.id`, `context.retryAfter`), so an app can show that it is held back.
 * @example
 * ```ts
 * client.on('error', (e) => e.code === 'rate_limited' && showSlowDown(e.message, e.context.retryAfter));
 * ```
 */
export interface ClientEvents {
  state: (change: StateChange) => void;
  error: (error: TidewireError) => void;
  /** The list of pending publishes changed (read it with `listPendingPublishes()`). */
  pending: () => void;
}

/**
 * One transport needs no plan. Several need the fallback plan, which the fallback
 * transports (SSE, long polling) bring along so WebSocket-only bundles never include it.
 */
export function choosePlan(options: ClientOptions): TransportPlan {
  checkClientOptions(options);
  const factories = options.transports ?? [websocket()];
  if (factories.length === 1) return singleTransportPlan(factories[0]!);
  return factories.find((f) => f.plan)!.plan!(factories, options);
}

/** Options that are durations or counts, and the least each may be (`Infinity` is allowed: never). */
const LEAST = {
  connectTimeout: 1,
  publishTimeout: 1,
  queueTimeout: 1,
  subscribeTimeout: 1,
  maxQueue: 1,
  reorderWindow: 0,
  releaseDelay: 0,
  fallbackAfter: 1,
  stickyFor: 0,
  upgradeDelay: 1,
  raceAfter: 0, // or `false`
} as const;

/**
 * Options the client could not work with fail at `createClient` (and `createSharedClient`, before
 * any tab leads), not as a client that silently never connects (`connectTimeout: 0`), rejects
 * every publish (`publishTimeout: NaN`), re-sends a subscribe forever (`subscribeTimeout: 0`) or
 * probes WebSocket without pause (`upgradeDelay: 0`).
 * @throws TidewireError `invalid_options` naming the option and what it must be
 */
export function checkClientOptions(options: ClientOptions): void {
  const { transports } = options;
  if (transports && (transports.length === 0 || (transports.length > 1 && !transports.some((f) => f.plan)))) {
    throw new TidewireError('invalid_options', 'createClient: `transports` must list at least one transport, and several only with a fallback transport (SSE, long polling) among them');
  }
  for (const [name, least] of Object.entries(LEAST)) {
    const value = options[name as keyof typeof LEAST];
    if (value !== undefined && !(name === 'raceAfter' && value === false) && !(typeof value === 'number' && value >= least)) {
      throw new TidewireError('invalid_options', `createClient: \`${name}\` must be a number ≥ ${least} (ms${name === 'maxQueue' ? ' — a count' : ''}), got ${String(value)}`, { context: { [name]: value } });
    }
  }
}

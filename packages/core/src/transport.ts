import type { CloseCode } from './protocol/frames';
import type { PlanFactory } from './transport-plan';

/** `eventsource`: SSE on the platform's EventSource (`@tidewire/core/eventsource`); `sse`: SSE read with fetch. */
export type TransportName = 'websocket' | 'sse' | 'eventsource' | 'longpoll';

/** How a transport ended. `code` is set when the server said why (close frame or WS close code). */
export interface TransportClose {
  readonly code?: CloseCode;
  readonly message: string;
  /** The server asked us to wait this long before reconnecting. */
  readonly retryAfter?: number;
  readonly cause?: unknown;
}

/** How a transport reports to the connection: open, each frame's text, activity, close with a reason. */
export interface TransportEvents {
  /** The pipe is up. The connection only counts as working once the first server frame arrives. */
  onOpen(): void;
  onFrame(text: string): void;
  /**
   * Bytes arrived, possibly mid-frame, so a frame slower to arrive than the heartbeat deadline never
   * kills a healthy line. Bytes between frames count once they add up to a frame's worth in progress
   * (liveBytes in heartbeat.ts): a proxy's keep-alive comments or a trickle must not keep a
   * line that delivers nothing alive. Frames always count.
   * @param bytes how many arrived, when the transport can tell (unknown: counted as a sign of life)
   */
  onActivity?(bytes?: number): void;
  /**
   * Something arrived that is not a frame and was discarded: a binary WebSocket message, an
   * SSE event of an unknown type, a long-poll batch that does not decode. The connection reports
   * it exactly like a frame that fails decoding (`invalid_frame`); nothing is dropped silently.
   * @param reason what was wrong, for the error message (no payload, which may be huge)
   */
  onInvalid?(reason: string): void;
  /** Called at most once, and never after `close()` was called by the owner. */
  onClose(info: TransportClose): void;
}

/** What a transport may need from the client that owns it. */
export interface TransportContext {
  /** The server endpoint as the app configured it (ws:, wss:, http: or https:). */
  readonly url: string;
  /** The token for HTTP transports' Authorization header (never put in the URL). */
  readonly token?: string;
  readonly WebSocket?: WebSocketConstructor;
  readonly fetch?: typeof globalThis.fetch;
}

/**
 * A transport only moves opaque text frames and reports open/close.
 * It knows nothing of channels, acks or heartbeats.
 */
export interface Transport {
  send(frame: string): void;
  /** Tear down quietly: no event fires after this. */
  close(): void;
}

/**
 * What `transports: [...]` holds: a named factory that opens one line per connection attempt.
 * Made by `websocket()`, `sse()`, `longpoll()`; implement it to add a transport.
 */
export interface TransportFactory {
  readonly name: TransportName;
  open(context: TransportContext, events: TransportEvents): Transport;
  /** How to choose among several transports; fallback transports bring `fallbackPlan` (see transport-plan.ts). */
  readonly plan?: PlanFactory;
}

/**
 * Handler slots are checked bivariantly (like DOM lib method parameters), so implementations
 * whose event types are richer than ours — the DOM's, `ws`'s — are accepted as they are.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The subset of the WHATWG WebSocket the client uses; `ws` in Node satisfies it. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
/** A WebSocket class: the global one, or `ws` in Node 20 (`import WebSocket from 'ws'`). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * Turn the app's endpoint into the scheme a transport needs, keeping TLS: `https:`/`wss:` become
 * `wss:`/`https:`, `http:`/`ws:` become `ws:`/`http:`.
 * @param url - an absolute URL (`createClient` has already resolved a relative one).
 * @param kind - `'ws'` for WebSocket, `'http'` for the HTTP transports.
 * @returns the URL with the scheme replaced.
 * @throws {TypeError} when `url` is not absolute.
 */
export function withScheme(url: string, kind: 'ws' | 'http'): string {
  const u = new URL(url);
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  const protocol = kind + (secure ? 's:' : ':');
  if (u.protocol === protocol && u.href === url) return url; // unchanged: no copy per connection
  u.protocol = protocol;
  return u.toString();
}

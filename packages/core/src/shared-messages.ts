import type { ChannelMessage, ChannelSnapshot, GapInfo } from './channel-state';
import type { ConnectionSnapshot } from './connection-state';
import { ConnectionError, ProtocolError, RequestError, TidewireError, TimeoutError, ValidationError } from './errors';
import type { TidewireErrorCode } from './errors';
import type { HistoryOptions } from './history';
import type { RequestRules } from './outbox';
import type { PendingPublish } from './outbox-storage';
import type { PresenceMember, PresenceSnapshot } from './presence';
import type { Position, RpcFrame } from './protocol/frames';

/**
 * What tabs and the holder of the shared connection (a leader tab or a SharedWorker) say to each
 * other. Everything here survives `postMessage` (structured clone): errors travel as class name,
 * code, message and context and are rebuilt on arrival, since a cloned Error loses its class.
 */

/** A TidewireError on the wire (its `context` too: an rpc refusal's `appCode`, a `retryAfter`…). */
export interface WireError {
  /** The error's class (`RequestError`, `TimeoutError`…), rebuilt on arrival; absent or unknown: `TidewireError`. */
  readonly name?: string;
  readonly code: string;
  readonly message: string;
  readonly context?: Readonly<Record<string, unknown>>;
}

/** The connection state as it travels to the tabs. */
export type SharedState = Omit<ConnectionSnapshot, 'error'> & { readonly error?: WireError };
/** A channel's state as it travels to the tabs. */
export type WireChannelState = Omit<ChannelSnapshot, 'error'> & { readonly error?: WireError };
/** A presence snapshot as it travels to the tabs. */
export interface WirePresence {
  readonly state: PresenceSnapshot['state'];
  readonly members: readonly PresenceMember[];
  readonly error?: WireError;
}
/** A history page without its `next()` (the tab rebuilds it). */
export interface WireHistoryPage {
  readonly messages: readonly ChannelMessage[];
  readonly epoch: string;
  readonly head: number;
  readonly hasMore: boolean;
}

/** What a tab tells the holder of the connection. */
export type TabMessage =
  | { readonly t: 'hello'; readonly tab: string }
  /** Open the connection now (it opens on first use otherwise, as a private client's). */
  | { readonly t: 'connect' }
  /** Check the line now (`client.checkConnection()`). */
  | { readonly t: 'check' }
  /** The tab holds its tab lock (`holdTabLock`) from now on: the holder may watch it for going away. */
  | { readonly t: 'alive'; readonly tab: string }
  /**
   * Subscribe this tab; `since`: the last position it delivered (after a takeover); `recent`: answer
   * with a `recent` page of the last ones; `catchUp`: answer with a `recent` page of what followed
   * `since` (empty when the subscription starts there) — the tab holds live messages until then.
   */
  | { readonly t: 'sub'; readonly tab: string; readonly channel: string; readonly since?: Position; readonly recent?: number; readonly catchUp?: boolean }
  | { readonly t: 'unsub'; readonly tab: string; readonly channel: string }
  | { readonly t: 'pub'; readonly id: string; readonly channel: string; readonly data: unknown }
  /** Any other acknowledged request (rpc), answered with an `ack` of its id. */
  | { readonly t: 'req'; readonly frame: RpcFrame; readonly rules?: RequestRules }
  | { readonly t: 'cancel'; readonly id: string; readonly error: WireError }
  | { readonly t: 'history'; readonly id: string; readonly channel: string; readonly options: HistoryOptions }
  /** Watch (`on`) or stop watching a channel's presence on behalf of this tab. */
  | { readonly t: 'pwatch'; readonly tab: string; readonly channel: string; readonly on: boolean }
  | { readonly t: 'enter'; readonly tab: string; readonly id: string; readonly channel: string; readonly info: unknown }
  | { readonly t: 'leave'; readonly tab: string; readonly channel: string }
  /** The tab is going away: drop its subscriptions and memberships. */
  | { readonly t: 'bye'; readonly tab: string };

/** What the holder of the connection tells every tab. */
export type LeaderMessage =
  /** A (new) holder: announce subscriptions, memberships and pending requests again. */
  | { readonly t: 'leader' }
  /** The connection's state after a transition, and the transition's reason. */
  | { readonly t: 'state'; readonly state: SharedState; readonly reason: string }
  | { readonly t: 'msg'; readonly message: ChannelMessage }
  | { readonly t: 'gap'; readonly gap: GapInfo }
  | { readonly t: 'chstate'; readonly channel: string; readonly state: WireChannelState }
  /**
   * The stored messages a tab asked for with `recent` (oldest first), read once the subscription was
   * live. For a catch-up (`sub` with `catchUp`), `at` is where the connection's subscription stood when
   * the page was sent: the tab delivers the page and what it held back, and a hole left before `at`
   * (an absence longer than the page, or across an epoch change) is a `gap` for it.
   */
  | { readonly t: 'recent'; readonly tab: string; readonly channel: string; readonly messages: readonly ChannelMessage[]; readonly at?: Position }
  | { readonly t: 'ack'; readonly id: string; readonly result?: unknown; readonly error?: WireError }
  /** An `error` event of the connection's client (a publish held back `rate_limited`, a listener that threw…): every tab emits it. */
  | { readonly t: 'error'; readonly error: WireError }
  | { readonly t: 'presence'; readonly channel: string; readonly presence: WirePresence }
  | { readonly t: 'pevent'; readonly channel: string; readonly event: 'join' | 'leave'; readonly member: PresenceMember }
  /** How many tabs use the connection (after each change). */
  | { readonly t: 'tabs'; readonly count: number }
  /** The connection's unacknowledged publishes, from every tab (after each change). */
  | { readonly t: 'pending'; readonly list: readonly PendingPublish[] };

const TAB_MESSAGES: ReadonlySet<string> = new Set(['hello', 'alive', 'connect', 'check', 'sub', 'unsub', 'pub', 'req', 'cancel', 'history', 'pwatch', 'enter', 'leave', 'bye']);

/** Whether a message on the shared bus comes from a tab (else from the holder). */
export const isTabMessage = (m: LeaderMessage | TabMessage): m is TabMessage => TAB_MESSAGES.has(m.t);

/** @returns the error as it travels. */
export function toWire(error: TidewireError): WireError {
  const { name, code, message } = error;
  try {
    return { name, code, message, context: structuredClone(error.context) };
  } catch {
    return { name, code, message }; // a context that cannot be cloned stays behind
  }
}

/** The classes an error is rebuilt as, by name (others — e.g. `RpcError`, which `rpc()` rebuilds itself — arrive as TidewireError). */
const ERROR_CLASSES: Readonly<Record<string, typeof TidewireError>> = { RequestError, TimeoutError, ConnectionError, ProtocolError, ValidationError };

/** @returns the error a wire error stands for: its class, code, message and context (plus `context`). */
export function fromWire(error: WireError, context: Readonly<Record<string, unknown>> = {}): TidewireError {
  const ErrorClass = (error.name !== undefined && Object.hasOwn(ERROR_CLASSES, error.name) && ERROR_CLASSES[error.name]) || TidewireError;
  return new ErrorClass(error.code as TidewireErrorCode, error.message, { context: { ...error.context, ...context } });
}

/** @returns the state with its error made clonable. */
export function wireState<S extends { readonly error?: TidewireError }>(s: S): Omit<S, 'error'> & { readonly error?: WireError } {
  return s.error ? { ...s, error: toWire(s.error) } : (s as Omit<S, 'error'>);
}

/** @returns the state a tab shows: the wire state with its error rebuilt. */
export function tabState<S>(s: { readonly error?: WireError }): S {
  return (s.error ? { ...s, error: fromWire(s.error) } : s) as S;
}

/**
 * Post `message` over a tab link. One that structured clone refuses — app data holding a Vue
 * `reactive()` proxy, or a function — goes as its JSON form: what a private client would send (it
 * JSON-encodes its frames).
 * @throws what `JSON.stringify` throws for data with no JSON form (a cycle, a BigInt)
 */
export function postClonable<M extends TabMessage | LeaderMessage>(post: (message: M) => void, message: M): void {
  try {
    post(message);
  } catch (e) {
    if ((e as { name?: unknown } | null)?.name !== 'DataCloneError') throw e;
    post(JSON.parse(JSON.stringify(message)) as M);
  }
}

/** What a request is for, as a private client's outbox names it (`publish:<channel>`, `rpc:<method>`). */
const targetOf = (m: TabMessage): string => (m.t === 'pub' ? `publish:${m.channel}` : m.t === 'req' ? `rpc:${m.frame.method}` : m.t);

/** Settles a tab's pending requests by id when their `ack` arrives. */
export class PendingAcks {
  readonly #waiting = new Map<string, { resolve(value: unknown): void; reject(error: TidewireError): void; message: TabMessage; resend: boolean; promise: Promise<unknown> }>();

  /**
   * Send a request and wait for the ack of `id`. The same id while it is pending joins it (the same
   * promise) — or, pending for another request (another channel, an rpc), is refused `bad_request` —
   * as in a private client's outbox; data that cannot be sent rejects `bad_request`.
   * @param resend whether to send it again to a new holder of the connection (else it rejects `interrupted` then)
   */
  request<T>(id: string, message: TabMessage, send: (message: TabMessage) => void, resend: boolean): Promise<T> {
    const pending = this.#waiting.get(id);
    if (pending && targetOf(pending.message) === targetOf(message)) return pending.promise as Promise<T>;
    if (pending) return Promise.reject(new TidewireError('bad_request', `id "${id}" is still pending for another request (${targetOf(pending.message)}): use another id`, { context: { id } }));
    let settle!: { resolve(value: unknown): void; reject(error: TidewireError): void };
    const promise = new Promise<T>((resolve, reject) => (settle = { resolve: resolve as (value: unknown) => void, reject }));
    this.#waiting.set(id, { ...settle, message, resend, promise });
    try {
      send(message);
    } catch (cause) {
      this.reject(id, new TidewireError('bad_request', `cannot send: ${String(cause)}`, { cause, context: { id } }));
    }
    return promise;
  }

  settle(id: string, result: unknown, error: WireError | undefined): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    this.#waiting.delete(id);
    if (error) waiting.reject(fromWire(error, { id }));
    else waiting.resolve(result);
  }

  reject(id: string, error: TidewireError): boolean {
    const waiting = this.#waiting.get(id);
    this.#waiting.delete(id);
    waiting?.reject(error);
    return waiting !== undefined;
  }

  /**
   * A new holder: @returns what to send it again (publishes, by their ids — the server stores each
   * once); the others (rpc) reject with `interrupted`, as they may or may not have run — unless
   * `first`: no holder has heard this tab before (its first election), so nothing ran; all go again.
   */
  takeover(first: boolean): TabMessage[] {
    const again: TabMessage[] = [];
    for (const [id, { message, resend }] of this.#waiting) {
      if (resend || first) again.push(message);
      else this.reject(id, new TidewireError('interrupted', 'the tab holding the shared connection went away', { context: { id } }));
    }
    return again;
  }

  rejectAll(error: (id: string) => TidewireError): void {
    for (const id of [...this.#waiting.keys()]) this.reject(id, error(id));
  }
}

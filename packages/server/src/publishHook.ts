import { brand, type ErrorCode } from '@tidewire/core/protocol';
import { MAX_TIMER_DELAY, type Clock } from './clock';
import { toWireData } from './bytes';
import { callHook } from './hookDeadline';
import type { Logger, SessionInfo } from './hooks';
import { DEFAULT_MAX_DEPTH, jsonTextOf, storedCopy } from './jsonValue';

/** What `onPublish` receives: who publishes (`user`, `session`), to which `channel`, and the `data` as sent. */
export interface PublishContext<User = unknown> {
  readonly user: User;
  readonly channel: string;
  readonly data: unknown;
  readonly session: SessionInfo<User>;
}

/**
 * What `onPublish` may answer: nothing (or `true`) passes the message as sent; `{ data }` stores
 * that data instead (moderated, sanitized, with server fields added); `false` refuses with
 * `forbidden`. Throwing {@link PublishRefusal} refuses with its code and message; any other throw
 * answers `server_error` and is logged.
 */
export type PublishVerdict = void | undefined | boolean | { readonly data: unknown };

/** The server's `onPublish` hook: moderation, sanitizing, server fields. Runs after `authorize`, before storing. */
export type OnPublish<User = unknown> = (ctx: PublishContext<User>) => PublishVerdict | Promise<PublishVerdict>;

/** What a `rate_limited` refusal from `onPublish` that names no wait tells the publisher (ms). */
const DEFAULT_RETRY_AFTER = 1000;

/** The codes a refusal from `onPublish` may carry to the publisher. */
export type PublishRefusalCode = Extract<ErrorCode, 'forbidden' | 'bad_request' | 'too_large' | 'rate_limited'>;
const REFUSAL_CODES: readonly string[] = ['forbidden', 'bad_request', 'too_large', 'rate_limited'] satisfies PublishRefusalCode[];

/**
 * Thrown by `onPublish` to refuse a message: the publisher's promise rejects with a
 * `RequestError` of this `code` (default `forbidden`) and `message`.
 * @example
 * ```ts
 * onPublish: ({ data }) => { if (containsSpam(data)) throw new PublishRefusal('no links, please'); }
 * ```
 */
export class PublishRefusal extends Error {
  override readonly name = 'PublishRefusal';
  readonly code: PublishRefusalCode;
  /** With `rate_limited`: ms the publisher waits before sending it again (absent: 1 s). */
  readonly retryAfter: number | undefined;

  /**
   * @param message what the publisher sees
   * @param code `forbidden` (default), `bad_request`, `too_large` or `rate_limited`
   * @param options `retryAfter`: with `rate_limited`, ms until the publisher may send again
   *   (default 1000, at most 2^31 - 1); the session's later publishes are held back that long too (protocol §8)
   * @throws TypeError when `code` is none of the four, or a `rate_limited` one's `retryAfter` is not a finite number: the
   *   refusal could not reach the publisher (its frame would be invalid); thrown inside `onPublish`,
   *   that answers `server_error` and is logged, like any other throw
   */
  constructor(message: string, code: PublishRefusalCode = 'forbidden', options: { readonly retryAfter?: number } = {}) {
    super(message);
    if (!REFUSAL_CODES.includes(code)) throw new TypeError(`PublishRefusal code must be one of ${REFUSAL_CODES.join(', ')}, got ${String(code)}`);
    this.code = code;
    this.retryAfter = code === 'rate_limited' ? retryAfterMs(options.retryAfter) : undefined;
  }
}
/** Also a PublishRefusal thrown by an app that imports the other build of the server (ESM beside CJS). */
const isPublishRefusal = brand(PublishRefusal, 'tidewire.publish-refusal');

/** A refusal's wait as the wire carries it: a whole number of ms from 1 to setTimeout's ceiling (the publisher waits with it). */
function retryAfterMs(retryAfter: number = DEFAULT_RETRY_AFTER): number {
  const ms = Number(retryAfter); // as before, a numeric string from untyped code still counts
  if (!Number.isFinite(ms)) throw new TypeError(`PublishRefusal retryAfter must be a finite number of ms, got ${String(retryAfter)}`);
  return Math.min(MAX_TIMER_DELAY, Math.max(1, Math.round(ms)));
}

/** How the hook decided: store `data`, or refuse with `code`/`message`. */
export type PublishDecision =
  | { readonly ok: true; readonly data: unknown }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly retryAfter?: number };

/**
 * Run `onPublish` (if any) with its deadline and turn its answer into a decision. Never throws.
 * Data the hook returns is checked like `server.publish`'s (jsonValue.ts): data that is not JSON
 * or nests deeper than `maxDepth - 1` is refused `server_error` and logged, never stored.
 * @param hook the app's hook, or undefined (everything passes unchanged)
 * @param deps `maxDepth`: the server's `limits.maxDepth` (default 64)
 */
export async function decidePublish(
  hook: OnPublish<unknown> | undefined,
  ctx: PublishContext<unknown>,
  deps: { clock: Clock; logger: Logger; timeout: number; maxDepth?: number },
): Promise<PublishDecision> {
  if (!hook) return { ok: true, data: ctx.data };
  const outcome = await callHook(() => hook(ctx), deps.timeout, deps.clock);
  if (outcome.kind === 'timed_out') {
    deps.logger.error(`tidewire: onPublish() did not answer within ${deps.timeout} ms ("${ctx.channel}")`);
    return { ok: false, code: 'server_error', message: `onPublish() did not answer within ${deps.timeout} ms` };
  }
  if (outcome.kind === 'threw') {
    if (isPublishRefusal(outcome.error)) {
      const { code, message, retryAfter } = outcome.error;
      return { ok: false, code, message, ...(retryAfter !== undefined && { retryAfter }) };
    }
    deps.logger.error(`tidewire: onPublish() threw ("${ctx.channel}")`, outcome.error);
    return { ok: false, code: 'server_error', message: 'internal error' };
  }
  const verdict = outcome.value;
  if (verdict === false) return { ok: false, code: 'forbidden', message: `publish to "${ctx.channel}" refused` };
  if (typeof verdict === 'object' && verdict !== null && 'data' in verdict) return replacedData(verdict.data, ctx, deps);
  // Stored as the hook left it, but not the object it saw: a hook may keep `ctx.data` and change it later.
  return { ok: true, data: ownCopy(ctx.data) };
}

/** A copy of the client's data (parsed JSON: plain, so structuredClone copies it whole); primitives as they are. */
const ownCopy = (data: unknown): unknown => (typeof data === 'object' && data !== null ? structuredClone(data) : data);

/**
 * The `{ data }` an `onPublish` answered, as it is stored: bytes become the bytes envelope (as in
 * server.publish) and `undefined` is stored as null (it has no JSON form). Anything else that is not
 * JSON is refused: stored, it would reach every subscriber as a `message` without `data`, which
 * clients drop as invalid and ask for again — forever, as long as history holds it.
 */
function replacedData(returned: unknown, ctx: PublishContext<unknown>, deps: { logger: Logger; maxDepth?: number }): PublishDecision {
  const data = toWireData(returned) ?? null;
  if (data === ctx.data) return { ok: true, data: ownCopy(data) }; // the client's own data: parsed from JSON, already checked
  let text: string;
  try {
    text = jsonTextOf(data, (deps.maxDepth ?? DEFAULT_MAX_DEPTH) - 1, 'the data onPublish() returned');
  } catch (e) {
    deps.logger.error(`tidewire: onPublish() returned data that cannot be sent ("${ctx.channel}")`, e);
    return { ok: false, code: 'server_error', message: 'internal error' };
  }
  return { ok: true, data: storedCopy(data, text) }; // the hook may keep and mutate its object
}

import type { ErrorCode } from '@tidewire/core/protocol';
import type { Clock } from './clock';
import { toWireData } from './bytes';
import { callHook } from './hookDeadline';
import type { Logger, SessionInfo } from './hooks';

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
   *   (default 1000); the session's later publishes are held back that long too (protocol §8)
   */
  constructor(message: string, code: PublishRefusalCode = 'forbidden', options: { readonly retryAfter?: number } = {}) {
    super(message);
    this.code = code;
    this.retryAfter = code === 'rate_limited' ? Math.max(1, Math.round(options.retryAfter ?? DEFAULT_RETRY_AFTER)) : undefined;
  }
}

/** How the hook decided: store `data`, or refuse with `code`/`message`. */
export type PublishDecision =
  | { readonly ok: true; readonly data: unknown }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly retryAfter?: number };

/**
 * Run `onPublish` (if any) with its deadline and turn its answer into a decision. Never throws.
 * @param hook the app's hook, or undefined (everything passes unchanged)
 */
export async function decidePublish(
  hook: OnPublish<unknown> | undefined,
  ctx: PublishContext<unknown>,
  deps: { clock: Clock; logger: Logger; timeout: number },
): Promise<PublishDecision> {
  if (!hook) return { ok: true, data: ctx.data };
  const outcome = await callHook(() => hook(ctx), deps.timeout, deps.clock);
  if (outcome.kind === 'timed_out') {
    deps.logger.error(`tidewire: onPublish() did not answer within ${deps.timeout} ms ("${ctx.channel}")`);
    return { ok: false, code: 'server_error', message: `onPublish() did not answer within ${deps.timeout} ms` };
  }
  if (outcome.kind === 'threw') {
    if (outcome.error instanceof PublishRefusal) {
      const { code, message, retryAfter } = outcome.error;
      return { ok: false, code, message, ...(retryAfter !== undefined && { retryAfter }) };
    }
    deps.logger.error(`tidewire: onPublish() threw ("${ctx.channel}")`, outcome.error);
    return { ok: false, code: 'server_error', message: 'internal error' };
  }
  const verdict = outcome.value;
  if (verdict === false) return { ok: false, code: 'forbidden', message: `publish to "${ctx.channel}" refused` };
  // `undefined` has no JSON form (it would make a message frame without `data`): it is stored as null.
  // Bytes become the bytes envelope, as in server.publish.
  if (typeof verdict === 'object' && verdict !== null && 'data' in verdict) return { ok: true, data: toWireData(verdict.data) ?? null };
  return { ok: true, data: ctx.data };
}

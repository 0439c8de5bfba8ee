import type { CloseCode, ErrorCode } from './protocol/frames';
import { brand } from './protocol/brand';

/**
 * Every error the SDK hands to an app is a TidewireError with a stable `code`
 * (see docs/errors.md). Branch on `code`, never on `message`.
 */
export type TidewireErrorCode =
  | ErrorCode // refused by the server
  | CloseCode // the connection ended for this reason
  | 'timeout' // no ack/answer within the deadline
  | 'queue_full' // the offline outbox is at its bound
  | 'closed' // the client was closed before the request settled
  | 'not_connected' // offline policy is 'fail' and there is no connection
  | 'transport_error' // the transport could not reach the server
  | 'validation_failed' // data does not match the channel's schema
  | 'invalid_frame' // the server sent something that is not a valid frame
  | 'listener_error' // app code (a listener, schema, codec, outboxStorage, getToken, backoff) threw or answered garbage; `cause` is what it threw
  | 'invalid_options' // createClient was given options it cannot use (e.g. a relative url where there is no page)
  | 'forbidden_origin' // the server refused the page's Origin (HTTP 403 before any session; see docs/deployment.md)
  | 'aborted' // the app's AbortSignal cancelled the request (rpc); `cause` is the signal's reason
  | 'interrupted' // the line dropped after an rpc was sent: it may or may not have run (rpcs are never sent twice)
  | 'unsupported' // the server did not list the capability a request needs in `connected.features` (see features.ts)

/** Extra fields of a TidewireError: the `cause` (an underlying error) and machine-readable `context`. */
export interface TidewireErrorOptions {
  cause?: unknown;
  /** Machine-readable details: channel, message id, retryAfter… */
  context?: Readonly<Record<string, unknown>>;
}

/**
 * The base class of every error the client hands to the app: a stable `code` (see
 * {@link TidewireErrorCode} and docs/errors.md), a human `message`, machine-readable `context`
 * (channel, message id, `retryAfter` in ms…) and, where one exists, a `cause`. Recognise it with
 * {@link isTidewireError}, which also works across two copies of core.
 */
export class TidewireError extends Error {
  override readonly name: string = 'TidewireError';
  readonly code: TidewireErrorCode;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: TidewireErrorCode, message: string, options: TidewireErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.context = options.context ?? {};
  }
}

/** The server refused a request (publish, subscribe, refresh). */
export class RequestError extends TidewireError {
  override readonly name = 'RequestError';
}
/** A request got no answer in time. */
export class TimeoutError extends TidewireError {
  override readonly name = 'TimeoutError';
}
/** The connection is gone for good (closed by the app, or failed fatally). */
export class ConnectionError extends TidewireError {
  override readonly name = 'ConnectionError';
}
/** The other side broke the protocol: a frame that is not valid. */
export class ProtocolError extends TidewireError {
  override readonly name = 'ProtocolError';
}
/** Data did not match the channel's schema. */
export class ValidationError extends TidewireError {
  override readonly name = 'ValidationError';
}

/**
 * True for any Tidewire error — from this copy of `@tidewire/core` or another one (a second
 * version in node_modules, the CJS build next to the ESM build, another realm), via the
 * `Symbol.for('tidewire.error')` brand as well as `instanceof`.
 *
 * @param e - anything caught or received in an `error` event.
 * @returns whether `e` is a TidewireError (then `e.code` and `e.context` are there).
 * @example
 * ```ts
 * try { await channel.publish(data); } catch (e) { if (isTidewireError(e) && e.code === 'timeout') retryLater(); }
 * ```
 */
export const isTidewireError: (e: unknown) => e is TidewireError = brand(TidewireError, 'tidewire.error');

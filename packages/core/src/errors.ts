import type { CloseCode, ErrorCode } from './protocol/frames';

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
  | 'invalid_frame'; // the server sent something that is not a valid frame

export interface TidewireErrorOptions {
  cause?: unknown;
  /** Machine-readable details: channel, message id, retryAfter… */
  context?: Readonly<Record<string, unknown>>;
}

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

export const isTidewireError = (e: unknown): e is TidewireError => e instanceof TidewireError;

import { brand } from '@tidewire/core/protocol';

/**
 * Errors the Redis broker throws to the Tidewire server (which answers the
 * client's request with `server_error` and, where waiting helps, `retryAfter`).
 * Match on `code`, never on `message`.
 */
export type RedisBrokerErrorCode =
  | 'broker_unavailable' // Redis cannot be reached right now (down, reconnecting, too slow): retry after `retryAfter` ms
  | 'broker_failed' // Redis answered with an error that waiting will not fix (a bug, a misconfigured server)
  | 'broker_full' // Redis is at its `maxmemory` with `noeviction` (OOM): nothing was written; retry after `retryAfter` ms, once history and dedupe keys expired or the operator freed memory
  | 'invalid_options' // createRedisBroker() was given options that fail validation
  | 'closed'; // the broker was closed

export class RedisBrokerError extends Error {
  override readonly name = 'RedisBrokerError';
  readonly code: RedisBrokerErrorCode;
  /** Milliseconds after which a retry may succeed; only with `broker_unavailable` and `broker_full`. */
  readonly retryAfter: number | undefined;

  /**
   * @param code stable machine-readable reason
   * @param message human-readable detail
   * @param options `retryAfter` in ms (only for `broker_unavailable` and `broker_full`), `cause` the underlying error
   */
  constructor(code: RedisBrokerErrorCode, message: string, options: { retryAfter?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfter = options.retryAfter;
  }
}

/** True for every error thrown by `@tidewire/redis`, from this copy or another one (its CJS build beside its ESM build): a `Symbol.for` brand as well as `instanceof`. */
export const isRedisBrokerError: (e: unknown) => e is RedisBrokerError = brand(RedisBrokerError, 'tidewire.redis-broker-error');

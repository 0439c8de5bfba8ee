import type { Clock } from './clock';
import { settleWithin } from './clock';
import { TimeoutError } from './errors';
import { listenerError } from './isolate';

/** Why a token is asked for: `connect` (no token yet), `refresh` (in-band, before expiry), `expired` (the server refused or expired the last one). */
export type TokenReason = 'connect' | 'refresh' | 'expired';
/**
 * The app's token provider. Called before connecting, before the token expires (at 80 % of its
 * lifetime, at most 30 s early) and once after a refusal; one call is in flight at a time and it must
 * answer within `connectTimeout` (a refresh: before the token expires). A throw, or an answer that
 * is not a string (`undefined`: no token), is reported as `listener_error`. See docs/auth.md.
 */
export type GetToken = (context: { reason: TokenReason }) => string | Promise<string>;

/** How long one `get()` may wait for `getToken`: the connection passes its connect timeout. */
export interface TokenDeadline {
  readonly clock_: Clock;
  /** Milliseconds. */
  readonly ms_: number;
}

/**
 * Hands out the current token, asking `getToken` at most once at a time:
 * concurrent callers share one in-flight request — except that an `expired` request never joins
 * a `refresh` still in flight (the token just expired while that call hung: ask afresh).
 *
 * `getToken` is app code, so it is isolated: a throw (synchronous or a rejection) or an answer
 * that is not a string (nor `undefined`: no token) becomes a `listener_error` (cause: what it
 * threw, or a `TypeError`), and an answer slower than the caller's deadline a `TimeoutError` with
 * code `timeout` — in all cases `context.callback` is `'getToken'`. A request that timed out or was
 * superseded is forgotten: the next `get()` asks again instead of joining a call that hangs, and
 * its late answer never replaces a newer token.
 */
export class TokenSource {
  #current: string | undefined;
  readonly #getToken: GetToken | undefined;
  #inFlight: Promise<string | undefined> | undefined;
  /** Why the request in flight was made (see `get_`: `expired` does not join a `refresh`). */
  #inFlightReason: TokenReason | undefined;
  /** Bumped per request: only the newest request's answer becomes the current token. */
  #generation = 0;

  constructor(token: string | undefined, getToken: GetToken | undefined) {
    this.#current = token;
    this.#getToken = getToken;
  }

  get canRefresh_(): boolean {
    return this.#getToken !== undefined;
  }

  /**
   * The cached token, or a new one when there is none yet or `reason` asks for a fresh one.
   * @param deadline give up after `deadline.ms` (rejects `timeout`); none: wait as long as `getToken` takes.
   * @returns never throws synchronously; rejects with a `TidewireError` (`listener_error` or `timeout`).
   */
  get_(reason: TokenReason, deadline?: TokenDeadline): Promise<string | undefined> {
    const getToken = this.#getToken;
    if (!getToken || (reason === 'connect' && this.#current !== undefined)) {
      return Promise.resolve(this.#current);
    }
    let request = this.#inFlight;
    if (!request || (reason === 'expired' && this.#inFlightReason !== 'expired')) {
      const generation = ++this.#generation;
      this.#inFlightReason = reason;
      request = this.#inFlight = new Promise<unknown>((resolve) => resolve(getToken({ reason }))).then(
        (token) => {
          if (this.#inFlight === request) this.#inFlight = undefined;
          if (token !== undefined && typeof token !== 'string') {
            throw listenerError('getToken', new TypeError(`getToken() answered a ${token === null ? 'null' : typeof token}`), { reason });
          }
          // A superseded request answering late still serves whoever waited on it, but the newer one's token stays current.
          if (generation === this.#generation) this.#current = token;
          return token;
        },
        (cause: unknown) => {
          if (this.#inFlight === request) this.#inFlight = undefined;
          throw listenerError('getToken', cause, { reason });
        },
      );
    }
    return deadline ? this.#within(request, reason, deadline) : request;
  }

  #within(request: Promise<string | undefined>, reason: TokenReason, { clock_: clock, ms_: ms }: TokenDeadline): Promise<string | undefined> {
    return settleWithin(request, clock, ms, () => {
      if (this.#inFlight === request) this.#inFlight = undefined;
      return new TimeoutError('timeout', `getToken() did not answer within ${ms} ms`, { context: { callback: 'getToken', reason } });
    });
  }
}

/** The token source of every client with neither `token` nor `getToken` (it never changes): one object, not one per client. */
let noToken: TokenSource | undefined;

/**
 * The token source for a client's options.
 * @param token a fixed token (`token` option), or undefined
 * @param getToken the app's provider (`getToken` option), or undefined
 * @returns a shared source when there is neither (cookie-authenticated and open apps)
 */
export function tokenSource(token: string | undefined, getToken: GetToken | undefined): TokenSource {
  return token === undefined && !getToken ? (noToken ??= new TokenSource(undefined, undefined)) : new TokenSource(token, getToken);
}

import type { Clock } from './clock';
import { Timer } from './clock';
import { TimeoutError } from './errors';
import { listenerError } from './isolate';

/** Why a token is asked for: `connect` (no token yet), `refresh` (in-band, before expiry), `expired` (the server refused or expired the last one). */
export type TokenReason = 'connect' | 'refresh' | 'expired';
/**
 * The app's token provider. Called before connecting, before the token expires (at 80 % of its
 * lifetime, at most 30 s early) and once after a refusal; one call is in flight at a time and it must
 * answer within `connectTimeout`. A throw is reported as `listener_error`. See docs/auth.md.
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
 * concurrent callers share one in-flight request.
 *
 * `getToken` is app code, so it is isolated: a throw (synchronous or a rejection) becomes a
 * `listener_error` (cause: what it threw), and an answer slower than the caller's deadline a
 * `TimeoutError` with code `timeout` — in both cases `context.callback` is `'getToken'`. A request
 * that timed out is forgotten, so the next `get()` asks again instead of joining a call that hangs.
 */
export class TokenSource {
  #current: string | undefined;
  readonly #getToken: GetToken | undefined;
  #inFlight: Promise<string | undefined> | undefined;

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
    if (!request) {
      request = this.#inFlight = new Promise<string>((resolve) => resolve(getToken({ reason }))).then(
        (token) => {
          if (this.#inFlight === request) this.#inFlight = undefined;
          return (this.#current = token);
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
    const timer = new Timer(clock);
    const expired = new Promise<never>((_, reject) =>
      timer.start_(ms, () => {
        if (this.#inFlight === request) this.#inFlight = undefined;
        reject(new TimeoutError('timeout', `getToken() did not answer within ${ms} ms`, { context: { callback: 'getToken', reason } }));
      }),
    );
    // Whichever settles first wins; once the request has, the timer is stopped and `expired` never settles.
    return Promise.race([request, expired]).finally(() => timer.stop_());
  }

}

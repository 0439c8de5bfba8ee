import type { ReportError } from './isolate';
import { callSafely } from './isolate';

/** Milliseconds to wait before reconnect attempt number `attempt` (1-based). */
export type Backoff = (attempt: number) => number;

/** Options of `exponentialBackoff`: `base` (ms, default 500), `max` (ms, default 20 000), `random` (default `Math.random`). */
export interface BackoffOptions {
  /** Upper bound of the first delay. Default 500 ms. */
  base?: number;
  /** Cap on any delay. Default 20 s. */
  max?: number;
  /** Source of randomness in [0, 1). Default Math.random; inject a seeded one in tests. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(max, base·2^(n-1))).
 * Full jitter spreads a crowd of clients reconnecting after a server restart.
 * @param options - `base`: ms, the upper bound of the first delay (default 500); `max`: ms, the cap
 *   (default 20 000); `random`: a source in [0, 1) (default `Math.random`).
 * @returns `(attempt) => ms` for `createClient({ backoff })`; `attempt` counts from 1.
 * @example
 * ```ts
 * createClient({ url, backoff: exponentialBackoff({ base: 1000, max: 60_000 }) });
 * ```
 */
export function exponentialBackoff({ base = 500, max = 20_000, random = Math.random }: BackoffOptions = {}): Backoff {
  return (attempt) => Math.floor(random() * Math.min(max, base * 2 ** Math.max(0, attempt - 1)));
}

/** The default backoff, stateless: one for every client that passes none (and the fallback of a broken one). */
export const defaultBackoff: Backoff = exponentialBackoff();

/**
 * The app's backoff as the SDK calls it: isolated (a throw is reported as `listener_error`
 * through `report`) and checked — a throw, or a result that is not a delay (NaN, negative, not a
 * number), falls back to the default exponential backoff, so a broken backoff can neither stop
 * reconnects nor turn them into a tight loop.
 * @param report where the `listener_error` goes (the client's `error` event).
 */
export function isolatedBackoff(backoff: Backoff, report: ReportError): Backoff {
  return (attempt) => {
    const delay = callSafely(report, 'backoff', { attempt }, backoff, attempt);
    // A finite delay ≥ 0: NaN, a negative and Infinity (which would stop reconnects for good) fall back.
    return typeof delay === 'number' && delay >= 0 && delay < Infinity ? delay : defaultBackoff(attempt);
  };
}

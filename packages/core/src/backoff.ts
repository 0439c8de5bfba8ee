/** Milliseconds to wait before reconnect attempt number `attempt` (1-based). */
export type Backoff = (attempt: number) => number;

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
 */
export function exponentialBackoff({ base = 500, max = 20_000, random = Math.random }: BackoffOptions = {}): Backoff {
  return (attempt) => Math.floor(random() * Math.min(max, base * 2 ** Math.max(0, attempt - 1)));
}

/**
 * Token bucket: `rate` tokens per second, holding at most `burst`. Refilled
 * lazily from the elapsed time, so an idle connection costs no timer.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#last = now;
  }

  /** Take one token; false when the bucket is empty. */
  take(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until `n` tokens are available (at least 1 ms when not yet). */
  msUntil(n: number, now: number): number {
    this.#refill(now);
    const missing = Math.min(n, this.burst) - this.#tokens;
    return missing <= 0 ? 0 : Math.max(1, Math.ceil((missing / this.rate) * 1000));
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#last);
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.rate) / 1000);
    this.#last = now;
  }
}

/**
 * Per-connection frame limit. Over `rate`, requests are refused with
 * `rate_limited` (the connection stays); a client that keeps sending at 3×
 * the rate empties the second bucket too and is disconnected.
 */
export class FrameRateLimiter {
  readonly #soft: TokenBucket;
  readonly #hard: TokenBucket;

  constructor(rate: number, burst: number, now: number) {
    this.#soft = new TokenBucket(rate, burst, now);
    this.#hard = new TokenBucket(rate * 3, burst * 3, now);
  }

  /** 'ok' | 'limited' (refuse this request) | 'abusive' (close the connection). */
  check(now: number): 'ok' | 'limited' | 'abusive' {
    if (!this.#hard.take(now)) return 'abusive';
    return this.#soft.take(now) ? 'ok' : 'limited';
  }

  /** When to try again after a refusal: one token's worth. */
  retryAfter(now: number): number {
    return this.#soft.msUntil(1, now);
  }

  /** When to reconnect after being closed: long enough for the bucket to fill back up. */
  reconnectAfter(now: number): number {
    return this.#soft.msUntil(this.#soft.burst, now);
  }
}

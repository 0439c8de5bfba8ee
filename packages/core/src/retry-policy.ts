import type { CloseCode } from './protocol/frames';

/**
 * The one place that decides whether a lost connection is worth another try.
 * `undefined` means the network failed without the server saying why: always retry.
 */
export function isFatalClose(code: CloseCode | undefined): boolean {
  return code === 'forbidden' || code === 'unsupported_version' || code === 'normal' || code === 'forbidden_origin';
}

/**
 * The close code an HTTP refusal stands for, from the `code` in the server's JSON error body
 * (`{"error":{"code":…}}`), or undefined when the answer should count as a plain network failure.
 * Only answers that say the same about the server whatever transport asks are taken: a refused
 * Origin (fatal: retrying cannot help), a server going away, a body too large. `forbidden` is not —
 * it also means "this transport is disabled here", where the client must fall back instead.
 */
export function closeCodeFromRefusal(code: unknown): CloseCode | undefined {
  return code === 'forbidden_origin' || code === 'going_away' || code === 'too_large' ? code : undefined;
}

/** Codes that a fresh token may cure: one reconnect with `getToken({ reason: 'expired' })`, then fatal. */
export function needsNewToken(code: CloseCode | undefined): boolean {
  return code === 'unauthorized' || code === 'token_expired';
}

/** The smallest scale a hinted backoff starts from (ms): the default backoff's first bound. */
const HINT_MIN_SCALE = 500;
/**
 * No server-given wait exceeds this (ms): the longest window the reference server spreads a herd
 * over, and the bound protocol §6.3 gives a close's `retryAfter`. A larger hint (a broken or hostile
 * server's 2^53) would otherwise park the client for good; refusals' waits are bounded the same way.
 */
export const HINT_MAX_DELAY = 60_000;

/**
 * Backoff after a close that carried `retryAfter` (a server spreading its clients' return, protocol
 * §6.3). The first attempt waits the hint itself. When that attempt fails too (the server is still
 * down), restarting at the ordinary 500 ms would bunch every client whose hint expired early into
 * the first seconds after the restart; instead attempt k after the hinted one waits a uniform delay
 * in [S·2^(k−1), S·2^k) — S = max(hint, 500 ms), at most 60 s — so each client stays spread on the
 * scale the server gave it. Forgotten once connected.
 */
export class HintedBackoff {
  #scale: number | undefined;
  #failures = 0;
  readonly #random: () => number;

  /** @param random - a source in [0, 1) (default `Math.random`). */
  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  /**
   * The connection was lost: the least delay (ms) before the next attempt.
   * @param retryAfter - the server's hint in this close, if any (ms)
   * @returns the hint itself; after a hinted close, the hint-scaled delay; otherwise 0 (no floor)
   */
  next_(retryAfter: number | undefined): number {
    if (retryAfter !== undefined) {
      this.#scale = Math.min(HINT_MAX_DELAY, retryAfter);
      this.#failures = 0;
      return this.#scale;
    }
    if (this.#scale === undefined) return 0;
    const upper = Math.min(HINT_MAX_DELAY, Math.max(HINT_MIN_SCALE, this.#scale) * 2 ** ++this.#failures);
    return Math.floor((upper / 2) * (1 + this.#random()));
  }

  /** Connected again: the next loss starts from the ordinary backoff. */
  reset_(): void {
    this.#scale = undefined;
    this.#failures = 0;
  }
}

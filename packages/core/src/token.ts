export type TokenReason = 'connect' | 'refresh' | 'expired';
export type GetToken = (context: { reason: TokenReason }) => string | Promise<string>;

/**
 * Hands out the current token, asking `getToken` at most once at a time:
 * concurrent callers share one in-flight request.
 */
export class TokenSource {
  #current: string | undefined;
  readonly #getToken: GetToken | undefined;
  #inFlight: Promise<string | undefined> | undefined;

  constructor(token: string | undefined, getToken: GetToken | undefined) {
    this.#current = token;
    this.#getToken = getToken;
  }

  get canRefresh(): boolean {
    return this.#getToken !== undefined;
  }

  /** The cached token, or a new one when there is none yet or `reason` asks for a fresh one. */
  get(reason: TokenReason): Promise<string | undefined> {
    if (!this.#getToken || (reason === 'connect' && this.#current !== undefined)) {
      return Promise.resolve(this.#current);
    }
    this.#inFlight ??= Promise.resolve(this.#getToken({ reason }))
      .then((token) => (this.#current = token))
      .finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }
}

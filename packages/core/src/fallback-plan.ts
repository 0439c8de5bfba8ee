import type { TransportReason } from './connection-state';
import type { TransportFactory } from './transport';

export interface SelectorOptions {
  /** Consecutive failures before any server frame that move us to the next transport. Default 1. */
  fallbackAfter?: number;
  /**
   * A transport that has already worked for this client is abandoned only after failing
   * continuously for this long (ms). Default 10 s: a plain server restart, with refused
   * connections for a few seconds, must not cause a downgrade.
   */
  stickyFor?: number;
}

/**
 * Chooses which transport to try next. A transport "works" when the server's first
 * frame arrives over it; failures before that count against it, failures after do not.
 */
export class TransportSelector {
  #index = 0;
  #reason: TransportReason = 'preferred';
  #failures = 0;
  #failingSince = 0;
  readonly #worked = new Set<string>();
  readonly #fallbackAfter: number;
  readonly #stickyFor: number;

  constructor(
    readonly factories: readonly TransportFactory[],
    options: SelectorOptions = {},
  ) {
    if (factories.length === 0) throw new TypeError('createClient: `transports` must list at least one transport');
    this.#fallbackAfter = options.fallbackAfter ?? 1;
    this.#stickyFor = options.stickyFor ?? 10_000;
  }

  current(): { factory: TransportFactory; reason: TransportReason } {
    return { factory: this.factories[this.#index]!, reason: this.#reason };
  }

  /** The server spoke over this transport. */
  succeeded(): void {
    this.#failures = 0;
    this.#worked.add(this.current().factory.name);
  }

  /** The transport failed before the server's first frame (at time `now`). Returns true when we moved on. */
  failed(now: number): boolean {
    if (this.#failures++ === 0) this.#failingSince = now;
    const stay = this.#worked.has(this.current().factory.name)
      ? now - this.#failingSince < this.#stickyFor
      : this.#failures < this.#fallbackAfter;
    if (stay || this.factories.length === 1) return false;
    this.#failures = 0;
    this.#index = (this.#index + 1) % this.factories.length;
    this.#reason = this.#index === 0 ? 'preferred' : 'fallback';
    return true;
  }

  /** Jump to a named transport (used by upgrades and remembered choices). */
  select(name: string, reason: TransportReason): boolean {
    const index = this.factories.findIndex((f) => f.name === name);
    if (index < 0) return false;
    this.#index = index;
    this.#reason = reason;
    this.#failures = 0;
    return true;
  }
}

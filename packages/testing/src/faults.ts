import type { Client } from '@tidewire/core';
import { ClientNetwork } from './client-network';
import { TestKitError } from './errors';

/** Which tokens the kit's server refuses at the next `authenticate` (connect or refresh). */
export class TokenRefusals {
  all = false;
  readonly tokens = new Set<string | undefined>();

  /** @returns whether `token` is refused now. */
  refuses(token: string | undefined): boolean {
    return this.all || this.tokens.has(token);
  }

  clear(): void {
    this.all = false;
    this.tokens.clear();
  }
}

/** Options for `faults.restart`. */
export interface RestartOptions {
  /**
   * `true` (default): the new server keeps the old one's broker — channels, epochs, history and
   * the dedupe window survive, so clients recover (`recovered: true`, no gap).
   * `false`: a fresh broker — every channel starts a new epoch, and a resubscribing client gets a
   * `gap` with `reason: 'epoch_changed'`.
   */
  history?: boolean;
}

/**
 * Fault injection. Per-client faults take the client made by `kit.client()`, or none for every
 * such client. Conditions (black hole, delay, reorder) apply to the client's current and future
 * lines until `heal`. Effects are asynchronous, like the network: await `kit.settle()` or
 * `kit.clock.advance(ms)` (or poll) before asserting.
 */
export class Faults {
  readonly #networks: Map<Client, ClientNetwork>;
  readonly #refusals: TokenRefusals;
  readonly #restart: (options: RestartOptions) => Promise<void>;

  /** Made by `createTestKit`. */
  constructor(networks: Map<Client, ClientNetwork>, refusals: TokenRefusals, restart: (options: RestartOptions) => Promise<void>) {
    this.#networks = networks;
    this.#refusals = refusals;
    this.#restart = restart;
  }

  /**
   * Cut the client's open lines as a network failure: both ends learn it with no close frame and
   * no code, frames in flight are lost. The client reconnects after its backoff (kit clock: advance
   * by up to `backoff(1)`, 500 ms by default) and recovers from its positions.
   * @param client one client, or every client of the kit
   * @returns how many lines were cut
   * @throws TestKitError `invalid_options` for a client this kit did not make
   */
  drop(client?: Client): number {
    let cut = 0;
    for (const network of this.#select(client)) {
      for (const line of [...network.lines]) {
        line.cut('connection lost (test kit: drop)');
        cut++;
      }
    }
    return cut;
  }

  /**
   * Frames (and close events) vanish both ways and nothing closes; new lines never open. The
   * client notices only through its heartbeat deadline (kit clock: the server's heartbeat,
   * 25 s by default, + max(1 s, half of it)); the server's session ends by its own deadline
   * (2 × heartbeat + 1 s). Lasts until `heal`.
   * @param client one client, or every client of the kit
   * @throws TestKitError `invalid_options` for a client this kit did not make
   */
  blackhole(client?: Client): void {
    for (const network of this.#select(client)) network.blackholed = true;
  }

  /**
   * Every frame of the client, both ways, arrives `ms` later on the kit clock (advance it to let
   * them through); order within a direction is kept. Lasts until `heal` (or `delay(client, 0)`).
   * @param ms latency in ms, ≥ 0
   * @throws TestKitError `invalid_options` for a negative `ms` or a foreign client
   */
  delay(client: Client | undefined, ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new TestKitError('invalid_options', `faults.delay needs a finite ms ≥ 0, got ${ms}`);
    for (const network of this.#select(client)) network.delay = ms;
  }

  /**
   * Hold the next `count` frames from the server to the client, then deliver them last-first
   * (`heal` releases a partial batch in order). What the client must survive when frames of
   * two lines interleave: its reorder window puts messages back in order.
   * @param count frames per reversed batch, ≥ 2
   * @throws TestKitError `invalid_options` for a count below 2 or a foreign client
   */
  reorder(client: Client | undefined, count: number): void {
    if (!Number.isInteger(count) || count < 2) throw new TestKitError('invalid_options', `faults.reorder needs an integer count ≥ 2, got ${count}`);
    for (const network of this.#select(client)) network.reorder(count);
  }

  /**
   * Lift the client's conditions (black hole, delay, reorder). Without a client: every client's,
   * and every token refusal.
   */
  heal(client?: Client): void {
    for (const network of this.#select(client)) network.heal();
    if (!client) this.#refusals.clear();
  }

  /**
   * Refuse a token from now on: the next `connect` (or `refresh`) presenting it fails as if
   * `authenticate` returned null — the connection closes `unauthorized`, a refresh gets an error.
   * Sessions already open are left alone until then. Lasts until `heal()` (without a client).
   * @param token the token to refuse; omitted: every token, anonymous connections included
   */
  refuseToken(token?: string): void {
    if (token === undefined) this.#refusals.all = true;
    else this.#refusals.tokens.add(token);
  }

  /**
   * Restart the server: a new server with the same options takes every new connection, the old
   * one closes every session with `going_away`, and clients reconnect after their backoff.
   * @param options `history`: keep the broker (default true) or start from nothing
   * @throws TestKitError (rejects) `invalid_options` for `history: false` when the app supplied
   *   its own `broker` (the kit cannot make a fresh one); `closed` once the kit is closed
   */
  restart(options: RestartOptions = {}): Promise<void> {
    return this.#restart(options);
  }

  #select(client: Client | undefined): ClientNetwork[] {
    if (!client) return [...this.#networks.values()];
    const network = this.#networks.get(client);
    if (!network) throw new TestKitError('invalid_options', 'this client was not made by this test kit (use kit.client())');
    return [network];
  }
}

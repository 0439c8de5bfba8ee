import type { Clock } from './clock';
import type { TransportReason } from './connection-state';
import type { TransportContext, TransportFactory } from './transport';
import type { TransportMemory } from './transport-memory';
import type { ProbeSuccess } from './upgrade-probe';

/**
 * Which transport to use, when to move on, and what to probe for an upgrade.
 * The connection asks; the plan decides. A single transport needs no decisions,
 * so the full fallback plan (selector, probes, memory) lives in its own module and
 * ships only with the fallback transports (SSE, long polling) — a WebSocket-only
 * app does not pay for it.
 */
export interface TransportPlan {
  current(): { readonly factory: TransportFactory; readonly reason: TransportReason };
  /**
   * The server spoke over the current transport. A plan on a fallback may now probe the
   * preferred transport in the background and hand one that works to `line.switchTo`.
   */
  succeeded(line: LiveLine): void;
  /**
   * The connection opened the current transport and waits for the server's first frame. A plan may
   * race another transport and hand it to `line.switchTo` if the server speaks over it first.
   */
  connecting?(line: LiveLine): void;
  /** The current transport failed before the server's first frame. True when the plan moved on. */
  failed(now: number): boolean;
  /** The live line is gone (dropped, failed or closed): stop any work in the background. */
  stop(): void;
}

/** What the connection lends its plan while it is connecting or connected. */
export interface LiveLine {
  readonly clock: Clock;
  /** Deadline for a probe's first frame (the client's `connectTimeout`). */
  readonly connectTimeout: number;
  /** What to open another transport with: the endpoint, injected implementations and a current token. */
  context(): Promise<TransportContext>;
  /** Make a probed (or raced) transport the live one; the plan has already made it `current()`. */
  switchTo(success: ProbeSuccess): void;
  /** Whether an rpc is on the wire (at most once: it cannot move to another line), so an upgrade must wait. */
  busy_(): boolean;
}

/** The client options a transport plan reads (the `url` and the fallback settings; see docs/transports.md). */
export interface PlanOptions {
  url: string;
  /** Consecutive failures before the first server frame that move to the next transport. Default 1. */
  fallbackAfter?: number;
  /** A transport that has worked is abandoned only after failing continuously this long (ms). Default 10 s. */
  stickyFor?: number;
  /** While on a fallback, first probe of the preferred transport after this many ms (doubling per failed probe, at most 5 min). Default 5 s. */
  upgradeDelay?: number;
  /**
   * Head start (ms) of a transport that has not worked yet before the next one is raced against
   * it; whichever delivers the server's first frame first is kept. `false`: wait for the full
   * `connectTimeout` before falling back. Default 400.
   */
  raceAfter?: number | false;
  transportMemory?: TransportMemory;
}

/** Builds a TransportPlan from the transports in order of preference; `fallbackPlan` is the one fallback transports bring. */
export type PlanFactory = (factories: readonly TransportFactory[], options: PlanOptions) => TransportPlan;

/** One transport: nothing to choose, nothing to probe (methods on the prototype: no closures per client). */
class SingleTransportPlan implements TransportPlan {
  readonly reason = 'preferred';

  constructor(readonly factory: TransportFactory) {}

  /** Itself: the choice never changes (no second object per client). */
  current(): ReturnType<TransportPlan['current']> {
    return this;
  }

  succeeded(): void {}

  failed(): boolean {
    return false;
  }

  stop(): void {}
}

/** One transport: nothing to choose, nothing to probe. */
export function singleTransportPlan(factory: TransportFactory): TransportPlan {
  return new SingleTransportPlan(factory);
}

import type { Clock } from './clock';
import type { TransportReason } from './connection-state';
import type { TransportContext, TransportFactory } from './transport';
import type { TransportMemory } from './transport-memory';
import type { Probe } from './upgrade-probe';

/**
 * Which transport to use, when to move on, and what to probe for an upgrade.
 * The connection asks; the plan decides. A single transport needs no decisions,
 * so the full fallback plan (selector, probes, memory) lives in its own module and
 * ships only with the fallback transports (SSE, long polling) — a WebSocket-only
 * app does not pay for it.
 */
export interface TransportPlan {
  current(): { readonly factory: TransportFactory; readonly reason: TransportReason };
  /** The server spoke over the current transport. */
  succeeded(): void;
  /** The current transport failed before the server's first frame. True when the plan moved on. */
  failed(now: number): boolean;
  /** While connected on a fallback, open a probe on the preferred transport (undefined: nothing to probe). */
  probe(context: TransportContext, clock: Clock, deadline: number): Probe | undefined;
  /** A probe succeeded and the connection switched to it. */
  upgraded(): void;
}

export interface PlanOptions {
  url: string;
  /** Consecutive failures before the first server frame that move to the next transport. Default 1. */
  fallbackAfter?: number;
  /** A transport that has worked is abandoned only after failing continuously this long (ms). Default 10 s. */
  stickyFor?: number;
  transportMemory?: TransportMemory;
}

export type PlanFactory = (factories: readonly TransportFactory[], options: PlanOptions) => TransportPlan;

/** One transport: nothing to choose, nothing to probe. */
export function singleTransportPlan(factory: TransportFactory): TransportPlan {
  return {
    current: () => ({ factory, reason: 'preferred' }),
    succeeded() {},
    failed: () => false,
    probe: () => undefined,
    upgraded() {},
  };
}

import type { TransportReason } from './connection-state';
import type { TransportFactory } from './transport';
import { inMemoryTransportMemory } from './transport-memory';
import type { PlanFactory, TransportPlan } from './transport-plan';
import { probeTransport } from './upgrade-probe';

/**
 * Transports in order of preference, with fallback, stickiness, upgrade probes and memory:
 * - a transport "works" when the server's first frame arrives over it; failures before that
 *   count against it (`fallbackAfter` of them move on), failures after do not;
 * - a transport that has worked is abandoned only after failing continuously for `stickyFor`,
 *   so a server restart never causes a downgrade;
 * - while on a fallback, the connection probes the first transport and switches back;
 * - the last working transport is remembered per URL and tried first next time.
 */
export const fallbackPlan: PlanFactory = (factories, { url, fallbackAfter = 1, stickyFor = 10_000, transportMemory }): TransportPlan => {
  const memory = transportMemory ?? inMemoryTransportMemory;
  const worked = new Set<string>();
  let index = 0;
  let reason: TransportReason = 'preferred';
  let failures = 0;
  let failingSince = 0;

  const select = (name: string | null | undefined, why: TransportReason) => {
    const found = factories.findIndex((f) => f.name === name);
    if (found < 0) return;
    index = found;
    reason = why;
    failures = 0;
  };
  select(memory.get(url), 'remembered');

  const current = (): { factory: TransportFactory; reason: TransportReason } => ({ factory: factories[index]!, reason });
  return {
    current,
    succeeded() {
      failures = 0;
      worked.add(current().factory.name);
      memory.set(url, current().factory.name);
    },
    failed(now) {
      if (failures++ === 0) failingSince = now;
      const stay = worked.has(current().factory.name) ? now - failingSince < stickyFor : failures < fallbackAfter;
      if (stay) return false;
      failures = 0;
      index = (index + 1) % factories.length;
      reason = index === 0 ? 'preferred' : 'fallback';
      return true;
    },
    probe(context, clock, deadline) {
      return index === 0 ? undefined : probeTransport(factories[0]!, context, clock, deadline);
    },
    upgraded() {
      select(factories[0]!.name, 'upgraded');
      this.succeeded();
    },
  };
};

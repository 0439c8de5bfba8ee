import { Timer } from './clock';
import type { TransportReason } from './connection-state';
import type { TransportFactory } from './transport';
import { inMemoryTransportMemory } from './transport-memory';
import type { LiveLine, PlanFactory, TransportPlan } from './transport-plan';
import type { Probe, ProbeSuccess } from './upgrade-probe';
import { probeTransport } from './upgrade-probe';

/**
 * Transports in order of preference, with fallback, stickiness, upgrade probes and memory:
 * - a transport "works" when the server's first frame arrives over it; failures before that
 *   count against it (`fallbackAfter` of them move on), failures after do not;
 * - a transport that has worked is abandoned only after failing continuously for `stickyFor`,
 *   so a server restart never causes a downgrade;
 * - while connected on a fallback, it probes the first transport in the background (after
 *   `upgradeDelay`, doubling per failed probe, at most 5 min) and switches the line to it;
 * - the last working transport is remembered per URL and tried first next time.
 */
export const fallbackPlan: PlanFactory = (
  factories,
  { url, fallbackAfter = 1, stickyFor = 10_000, upgradeDelay = 5000, transportMemory },
): TransportPlan => {
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

  // The background upgrade. `stop()` bumps the run, so a probe or timer of a line that is gone does nothing.
  let upgradeRun = 0;
  let upgradeFailures = 0;
  let upgradeTimer: Timer | undefined;
  let probe: Probe | undefined;

  const scheduleUpgrade = (line: LiveLine): void => {
    const run = upgradeRun;
    const delay = Math.min(upgradeDelay * 2 ** upgradeFailures, 300_000);
    (upgradeTimer ??= new Timer(line.clock)).start(delay, async () => {
      const context = await line.context();
      if (run !== upgradeRun) return;
      probe = probeTransport(factories[0]!, context, line.clock, line.connectTimeout);
      let success: ProbeSuccess;
      try {
        success = await probe.result;
      } catch {
        if (run === upgradeRun) {
          upgradeFailures++;
          scheduleUpgrade(line);
        }
        return;
      }
      if (run !== upgradeRun) return success.transport.close();
      select(factories[0]!.name, 'upgraded');
      line.switchTo(success);
    });
  };

  const current = (): { factory: TransportFactory; reason: TransportReason } => ({ factory: factories[index]!, reason });
  return {
    current,
    succeeded(line) {
      failures = 0;
      worked.add(current().factory.name);
      memory.set(url, current().factory.name);
      upgradeFailures = 0;
      if (index > 0) scheduleUpgrade(line);
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
    stop() {
      upgradeRun++;
      upgradeTimer?.stop();
      probe?.cancel();
    },
  };
};

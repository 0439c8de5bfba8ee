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
 * - the last working transport is remembered per URL and tried first next time;
 * - a transport that has not worked yet is raced (Happy Eyeballs): if the server has not spoken
 *   over it within `raceAfter`, the next transport starts alongside and whichever delivers
 *   `connected` first is kept; the other is closed (a WebSocket or SSE stream ends its session,
 *   long polling hangs up), and it never got further than `connect`.
 */
/** How soon an upgrade held back by an rpc on the wire looks again (ms). */
const BUSY_RETRY_MS = 500;

export const fallbackPlan: PlanFactory = (
  factories,
  { url, fallbackAfter = 1, stickyFor = 10_000, upgradeDelay = 5000, raceAfter = 400, transportMemory },
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

  // Background work: the upgrade probe (while connected) or the racer (while connecting), one at
  // a time. `stopBackground()` bumps the run, so a probe or timer of a line that is gone does nothing.
  let run = 0;
  let upgradeFailures = 0;
  let timer: Timer | undefined;
  let probe: Probe | undefined;
  const stopBackground = (): void => {
    run++;
    timer?.stop_();
    probe?.cancel_();
  };

  /** After `delay`, open a second session on `factories[target]`; if the server speaks over it, make it the line. */
  const probeAfter = (line: LiveLine, delay: number, target: number, why: TransportReason, onFailure?: () => void): void => {
    const started = run;
    const factory = factories[target]!;
    // An rpc on the wire cannot move to another line (at most once: it would be `interrupted`), so
    // the switch waits until none is: no probe while one is (looked at again shortly), and a probe
    // that succeeds meanwhile is closed and counted as failed — the next waits twice as long, so
    // steady rpc traffic cannot make the client open (and authenticate) a session every half second.
    (timer ??= new Timer(line.clock)).start_(delay, async () => {
      if (line.busy_()) return probeAfter(line, BUSY_RETRY_MS, target, why, onFailure);
      const context = await line.context();
      if (started !== run) return;
      probe = probeTransport(factory, context, line.clock, line.connectTimeout);
      let success: ProbeSuccess;
      try {
        success = await probe.result_;
      } catch {
        if (started === run) onFailure?.();
        return;
      }
      if (started !== run) return success.transport.close();
      if (line.busy_()) return (success.transport.close(), onFailure?.());
      select(factory.name, why);
      line.switchTo(success);
    });
  };

  const scheduleUpgrade = (line: LiveLine): void =>
    probeAfter(line, Math.min(upgradeDelay * 2 ** upgradeFailures, 300_000), 0, 'upgraded', () => {
      upgradeFailures++;
      scheduleUpgrade(line);
    });

  const current = (): { factory: TransportFactory; reason: TransportReason } => ({ factory: factories[index]!, reason });
  return {
    current,
    connecting(line) {
      // Only a transport not yet known to work is raced: one that has worked is waited for (a
      // server restart must not downgrade). A racer that fails just leaves the first to its deadline.
      if (raceAfter !== false && index + 1 < factories.length && !worked.has(current().factory.name)) {
        probeAfter(line, raceAfter, index + 1, 'fallback');
      }
    },
    succeeded(line) {
      stopBackground(); // the racer lost (or is the winner, already settled)
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
    stop: stopBackground,
  };
};

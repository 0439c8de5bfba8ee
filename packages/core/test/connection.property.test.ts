import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionStateName, StateChange } from '../src/connection-state';
import { actionArb, perform, propertyParameters, startRun } from './property-driver';

// The connection state machine (docs/client.md, "Connection state") as an invariant over random
// schedules of transport events (open, frames, garbage, close codes), clock jumps and API calls.
// A failure prints fast-check's seed and path: rerun with TIDEWIRE_PROPERTY_SEED=<seed>.

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
});

/**
 * The documented transitions, and nothing else (one transport, so no upgrade):
 *   idle ─connect→ connecting ─first frame→ connected ─lost→ reconnecting ─timer→ connecting …
 *   connecting ─failed attempt→ reconnecting;  any ─close()→ closed;  any ─fatal→ failed;
 *   closed | failed ─connect()→ connecting
 */
const ALLOWED: Readonly<Record<ConnectionStateName, readonly ConnectionStateName[]>> = {
  idle: ['connecting', 'closed', 'failed'],
  connecting: ['connected', 'reconnecting', 'closed', 'failed'],
  connected: ['reconnecting', 'closed', 'failed'],
  reconnecting: ['connecting', 'closed', 'failed'],
  closed: ['connecting'],
  failed: ['connecting', 'closed'],
};

function transitionViolations(changes: readonly StateChange[], final: ConnectionStateName): string[] {
  const violations: string[] = [];
  let current: ConnectionStateName = 'idle';
  for (const [i, { from, to }] of changes.entries()) {
    if (from.state !== current) violations.push(`#${i}: from ${from.state}, but the machine was ${current}`);
    if (!ALLOWED[from.state].includes(to.state)) violations.push(`#${i}: ${from.state} → ${to.state} is not a documented transition`);
    if (to.state === 'reconnecting' && !(to.retryIn >= 0 && to.error && to.attempt >= 1)) violations.push(`#${i}: reconnecting without retryIn/error/attempt`);
    if (to.state === 'failed' && !to.error) violations.push(`#${i}: failed without an error`);
    current = to.state;
  }
  if (current !== final) violations.push(`the snapshot says ${final}, the last transition said ${current}`);
  return violations;
}

describe('connection state machine over random schedules (fast-check)', () => {
  it('moves only along the documented transitions, one event per change, whatever the transport and the app do', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 120, size: 'max' }), fc.boolean(), async (actions, throwingStateListener) => {
        const run = startRun();
        // App code that throws on every state change must change nothing (listener isolation).
        if (throwingStateListener) run.client.on('state', () => {
          throw new Error('app state listener failed');
        });
        try {
          for (const action of actions) await perform(run, action);
          expect(run.escaped).toEqual([]);
          expect(transitionViolations(run.changes, run.client.getSnapshot().state)).toEqual([]);
        } finally {
          run.client.close();
          await vi.advanceTimersByTimeAsync(60_000);
        }
        // close() is final until connect(): no timer may revive the line.
        expect(run.client.getSnapshot().state).toBe('closed');
        expect(transitionViolations(run.changes, 'closed')).toEqual([]);
      }),
      propertyParameters(150),
    );
  });
});

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HandleRecord, RunRecord } from './property-driver';
import { actionArb, heal, perform, propertyParameters, startRun } from './property-driver';

// The delivery and publish contracts (docs/client.md) as invariants over random schedules of
// transport events, clock jumps, throwing listeners and API calls, against a correct model server.
// A failure prints fast-check's seed and path: rerun with TIDEWIRE_PROPERTY_SEED=<seed>.

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
});

/** Each message reaches each handle at most once, in offset order, matching what was stored; a hole only after a `gap`. */
function deliveryViolations(run: RunRecord): string[] {
  const violations: string[] = [];
  run.handles.forEach((record: HandleRecord, index) => {
    const where = `handle ${index} on ${record.channel}`;
    if (record.afterRelease > 0) violations.push(`${where}: ${record.afterRelease} events after unsubscribe()`);
    const seen = new Set<string>();
    let last: { epoch: string; offset: number } | undefined;
    let gapSinceLast = false;
    for (const event of record.events) {
      if (event.type === 'gap') {
        gapSinceLast = true;
        continue;
      }
      const key = `${event.epoch}/${event.offset}`;
      if (seen.has(key)) violations.push(`${where}: ${key} delivered twice`);
      seen.add(key);
      const stored = run.server.archive.get(`${record.channel}/${key}`);
      if (stored !== event.data) violations.push(`${where}: ${key} carried ${JSON.stringify(event.data)}, the server stored ${JSON.stringify(stored)}`);
      if (last) {
        if (event.epoch === last.epoch && event.offset <= last.offset) violations.push(`${where}: ${key} after ${last.epoch}/${last.offset}`);
        const hole = event.epoch !== last.epoch || event.offset > last.offset + 1;
        if (hole && !gapSinceLast) violations.push(`${where}: silent hole from ${last.epoch}/${last.offset} to ${key}`);
      }
      last = event;
      gapSinceLast = false;
    }
  });
  return violations;
}

/** Every publish settles once, a resolved one says where the server stored it, and nothing is stored twice. */
function publishViolations(run: RunRecord): string[] {
  const violations: string[] = [];
  for (const p of run.publishes) {
    if (p.settlements !== 1) violations.push(`publish ${p.data}: settled ${p.settlements} times`);
    if (p.result) {
      const stored = run.server.stored.get(p.result.id);
      if (!stored || stored.channel !== p.channel || stored.epoch !== p.result.epoch || stored.offset !== p.result.offset) {
        violations.push(`publish ${p.data}: resolved ${JSON.stringify(p.result)}, the server has ${JSON.stringify(stored)}`);
      }
    }
  }
  const counts = new Map<unknown, number>();
  for (const data of run.server.archive.values()) counts.set(data, (counts.get(data) ?? 0) + 1);
  for (const [data, n] of counts) if (n > 1) violations.push(`${String(data)} stored ${n} times`);
  return violations;
}

/** After a healthy stretch, every live handle on a subscribed channel has caught up with the server's head. */
function livenessViolations(run: RunRecord): string[] {
  if (run.client.getSnapshot().state !== 'connected') return [`not connected after healing: ${run.client.getSnapshot().state}`];
  const violations: string[] = [];
  for (const record of run.handles.filter((h) => !h.released)) {
    const snapshot = record.handle.getSnapshot();
    if (snapshot.state === 'failed') continue; // refused for good by the server (forbidden …): a defined end, not a stall
    if (snapshot.state !== 'subscribed') {
      violations.push(`${record.channel}: ${snapshot.state} after healing`);
      continue;
    }
    const log = run.server.log(record.channel);
    const head = { epoch: log.epoch, offset: log.messages.length };
    if (head.offset === 0 && record.handle.position?.epoch !== head.epoch) continue; // a new, still empty epoch shows only with its first message
    const position = record.handle.position; // the last message delivered (the snapshot keeps the subscribe point)
    if (position?.epoch !== head.epoch || position.offset !== head.offset) {
      violations.push(`${record.channel}: at ${JSON.stringify(position)}, the server at ${JSON.stringify(head)}`);
    }
  }
  return violations;
}

describe('channel and publish contracts over random schedules (fast-check)', () => {
  it('delivers each message at most once, in order or after a gap; every publish settles exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 120, size: 'max' }), async (actions) => {
        const run = startRun();
        try {
          for (const action of actions) await perform(run, action);
          expect(run.escaped).toEqual([]);
          expect(deliveryViolations(run)).toEqual([]);
        } finally {
          run.client.close();
          await vi.advanceTimersByTimeAsync(60_000); // every timer that could still settle a publish
        }
        expect(publishViolations(run)).toEqual([]);
        expect(run.escaped).toEqual([]);
      }),
      propertyParameters(150),
    );
  });

  it('after the faults stop, a reconnected client catches every live handle up with the server', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 100, size: 'max' }), async (actions) => {
        const run = startRun();
        try {
          for (const action of actions) await perform(run, action);
          await perform(run, { kind: 'connect' }); // the app reconnects after a close() or a fatal code
          await heal(run);
          expect(livenessViolations(run)).toEqual([]);
          expect(deliveryViolations(run)).toEqual([]);
        } finally {
          run.client.close();
          await vi.advanceTimersByTimeAsync(60_000);
        }
        expect(publishViolations(run)).toEqual([]);
      }),
      propertyParameters(100),
    );
  });
});

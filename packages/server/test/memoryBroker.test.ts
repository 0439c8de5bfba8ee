import { describe, expect, it } from 'vitest';
import type { BrokerMessage } from '../src/broker/broker';
import { History } from '../src/broker/history';
import { MemoryBroker } from '../src/broker/memoryBroker';
import type { Clock } from '../src/clock';

/** Manual clock: time moves only when the test says so; timers never fire on their own. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 1_000_000;
  return {
    now: () => now,
    setTimeout: () => setTimeout(() => {}, 0).unref(),
    clearTimeout: () => {},
    advance: (ms) => void (now += ms),
  };
}

describe('History ring buffer', () => {
  it('keeps the newest `capacity` entries, oldest first, and trims by time', () => {
    const h = new History<number>(3);
    for (let i = 1; i <= 5; i++) h.push({ offset: i, at: i * 10, value: i });
    expect(h.oldestOffset()).toBe(3);
    expect(h.after(0)).toEqual([3, 4, 5]);
    expect(h.after(3)).toEqual([4, 5]);
    expect(h.after(5)).toEqual([]);
    h.trimBefore(45);
    expect(h.after(0)).toEqual([5]);
    h.trimBefore(1000);
    expect(h.length).toBe(0);
    expect(h.oldestOffset()).toBeUndefined();
  });
});

describe('MemoryBroker', () => {
  it('assigns consecutive offsets from 1 per channel, with one epoch per channel', async () => {
    const b = new MemoryBroker({ clock: manualClock() });
    const a1 = await b.publish('a', { id: '1', data: null });
    const a2 = await b.publish('a', { id: '2', data: null });
    const b1 = await b.publish('b', { id: '1', data: null });
    expect([a1.offset, a2.offset, b1.offset]).toEqual([1, 2, 1]);
    expect(a1.epoch).toBe(a2.epoch);
    expect(b1.epoch).not.toBe(a1.epoch);
  });

  it('subscribe is atomic with publish: every message once, in replay or live', async () => {
    const b = new MemoryBroker({ clock: manualClock() });
    const first = await b.publish('c', { id: 'm1', data: 1 });
    const live: BrokerMessage[] = [];
    // The memory broker runs each call synchronously: publishes started before subscribe() are
    // in the replay, later ones go live. Never both, never neither.
    const publishing = [2, 3, 4].map((n) => b.publish('c', { id: `m${n}`, data: n }));
    const sub = await b.subscribe('c', { epoch: first.epoch, offset: 0 }, (m) => live.push(m));
    await Promise.all(publishing);
    await b.publish('c', { id: 'm5', data: 5 });
    const seen = [...sub.replay, ...live].map((m) => m.offset);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(sub.recovered).toBe(true);
    sub.unsubscribe();
    await b.publish('c', { id: 'm6', data: 6 });
    expect(live.at(-1)?.offset).toBe(5);
  });

  it('delivery tolerates listeners that unsubscribe or subscribe while a message is being delivered', async () => {
    const b = new MemoryBroker({ clock: manualClock() });
    const got: string[] = [];
    const handles: { second?: { unsubscribe(): void }; late?: Promise<{ offset: number }> } = {};
    await b.subscribe('h', undefined, (m) => {
      got.push(`first:${m.offset}`);
      handles.second?.unsubscribe(); // the next listener leaves before it is reached
      handles.late ??= b.subscribe('h', undefined, (n) => got.push(`late:${n.offset}`));
    });
    handles.second = await b.subscribe('h', undefined, (m) => got.push(`second:${m.offset}`));
    await b.publish('h', { id: '1', data: 1 });
    // Subscribed during delivery of offset 1: its position is 1, so it gets only what follows.
    expect(await handles.late).toMatchObject({ offset: 1 });
    await b.publish('h', { id: '2', data: 2 });
    expect(got).toEqual(['first:1', 'first:2', 'late:2']);
  });

  it('the same listener subscribed twice is delivered twice, and each unsubscribe removes one', async () => {
    const b = new MemoryBroker({ clock: manualClock() });
    const got: number[] = [];
    const listener = (m: BrokerMessage): void => void got.push(m.offset);
    const one = await b.subscribe('i', undefined, listener);
    await b.subscribe('i', undefined, listener);
    await b.publish('i', { id: '1', data: 1 });
    one.unsubscribe();
    await b.publish('i', { id: '2', data: 2 });
    expect(got).toEqual([1, 1, 2]);
  });

  it('deduplicates ids within the window and by count, then forgets them', async () => {
    const clock = manualClock();
    const b = new MemoryBroker({ clock, dedupe: { window: 1000, size: 2 } });
    const first = await b.publish('d', { id: 'x', data: 1 });
    expect(await b.publish('d', { id: 'x', data: 1 })).toEqual({ ...first, duplicate: true });
    clock.advance(1001);
    expect(await b.publish('d', { id: 'x', data: 1 })).toMatchObject({ offset: 2, duplicate: false });
    await b.publish('d', { id: 'y', data: 1 });
    await b.publish('d', { id: 'z', data: 1 }); // evicts x (size 2)
    expect(await b.publish('d', { id: 'x', data: 1 })).toMatchObject({ offset: 5, duplicate: false });
  });

  it('does not remember fresh (generated, never retried) ids', async () => {
    const b = new MemoryBroker({ clock: manualClock() });
    await b.publish('g', { id: 'gen', data: 1, fresh: true });
    // The same id again is stored again: a fresh id is never looked up or recorded.
    expect(await b.publish('g', { id: 'gen', data: 2 })).toMatchObject({ offset: 2, duplicate: false });
    expect(await b.publish('g', { id: 'gen', data: 2 })).toMatchObject({ offset: 2, duplicate: true });
  });

  it('cannot recover past the TTL, and drops idle channels only after history and dedupe expire', async () => {
    const clock = manualClock();
    const b = new MemoryBroker({ clock, history: { ttl: 1000 }, dedupe: { window: 500 } });
    const { epoch } = await b.publish('e', { id: '1', data: 1 });
    b.sweep();
    expect(b.stats().channels).toBe(1); // history still within TTL
    clock.advance(1001);
    const sub = await b.subscribe('e', { epoch, offset: 0 }, () => {});
    expect(sub).toMatchObject({ epoch, offset: 1, recovered: false, replay: [] });
    b.sweep();
    expect(b.stats().channels).toBe(1); // has a listener
    sub.unsubscribe();
    b.sweep();
    expect(b.stats().channels).toBe(0);
    const fresh = await b.subscribe('e', { epoch, offset: 1 }, () => {});
    expect(fresh.epoch).not.toBe(epoch); // a recreated channel is a new epoch: old positions cannot match
    expect(fresh.recovered).toBe(false);
  });

  it('without since: starts at the head with recovered true; a future offset is not recoverable', async () => {
    const b = new MemoryBroker({ clock: manualClock() });
    const { epoch } = await b.publish('f', { id: '1', data: 1 });
    expect(await b.subscribe('f', undefined, () => {})).toMatchObject({ offset: 1, recovered: true, replay: [] });
    expect(await b.subscribe('f', { epoch, offset: 9 }, () => {})).toMatchObject({ offset: 1, recovered: false });
    expect(await b.subscribe('f', { epoch, offset: 1 }, () => {})).toMatchObject({ offset: 1, recovered: true });
  });
});

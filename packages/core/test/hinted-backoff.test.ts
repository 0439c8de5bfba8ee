import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import { HintedBackoff } from '../src/retry-policy';
import { connected, fakeTransport } from './fake-transport';

/**
 * After a close with `retryAfter`, a client whose hinted attempt fails (the server is still down)
 * backs off on the hint's scale — [S·2^(k−1), S·2^k), S = max(hint, 500 ms), ≤ 60 s — instead of
 * restarting at the ordinary backoff and bunching with every other early client (the herd).
 */
const URL_ = 'ws://tidewire.test/tidewire';

describe('HintedBackoff', () => {
  it('returns the hint, then doubles from its scale with jitter in the upper half, capped at 60 s', () => {
    const low = new HintedBackoff(() => 0);
    const high = new HintedBackoff(() => 0.999999);
    expect(low.next_(3000)).toBe(3000);
    expect(high.next_(3000)).toBe(3000);
    expect([low.next_(undefined), low.next_(undefined), low.next_(undefined)]).toEqual([3000, 6000, 12_000]);
    expect([high.next_(undefined), high.next_(undefined), high.next_(undefined)]).toEqual([5999, 11_999, 23_999]);
    for (let i = 0; i < 10; i++) expect(high.next_(undefined)).toBeLessThanOrEqual(60_000);
  });

  it('bounds a hint to 60 s (protocol §6.3): a broken server\'s 2^53 does not park the client for good', () => {
    const b = new HintedBackoff(() => 0.5);
    expect(b.next_(Number.MAX_SAFE_INTEGER)).toBe(60_000);
    expect(b.next_(3_600_000)).toBe(60_000);
    expect(b.next_(undefined)).toBeLessThanOrEqual(60_000);
  });

  it('starts from 500 ms for a short hint, adds no floor without a hint, and forgets the hint on reset', () => {
    const b = new HintedBackoff(() => 0);
    expect(b.next_(undefined)).toBe(0);
    expect(b.next_(40)).toBe(40);
    expect(b.next_(undefined)).toBe(500);
    b.reset_();
    expect(b.next_(undefined)).toBe(0);
  });

  it('a new hint replaces the old scale', () => {
    const b = new HintedBackoff(() => 0);
    b.next_(20_000);
    expect(b.next_(undefined)).toBe(20_000);
    expect(b.next_(1000)).toBe(1000);
    expect(b.next_(undefined)).toBe(1000);
  });
});

describe('a client after a hinted close', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('waits the hint, and when that attempt fails, stays on the hint’s scale instead of the 5 ms backoff', async () => {
    const t = fakeTransport();
    const client = createClient({ url: URL_, transports: [t.factory], backoff: () => 5 });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    t.last.push({ type: 'close', code: 'going_away', message: 'deploy', retryAfter: 3000 });
    expect(client.getSnapshot()).toMatchObject({ state: 'reconnecting', retryIn: 3000 });
    await vi.advanceTimersByTimeAsync(3000);
    expect(client.getSnapshot().state).toBe('connecting');
    t.last.drop(); // the server is still down
    const snapshot = client.getSnapshot();
    expect(snapshot.state).toBe('reconnecting');
    const retryIn = snapshot.state === 'reconnecting' ? snapshot.retryIn : -1;
    expect(retryIn).toBeGreaterThanOrEqual(3000);
    expect(retryIn).toBeLessThan(6000);
    client.close();
  });

  it('goes back to the ordinary backoff once connected again', async () => {
    const t = fakeTransport();
    const client = createClient({ url: URL_, transports: [t.factory], backoff: () => 5 });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    t.last.push({ type: 'close', code: 'going_away', message: 'deploy', retryAfter: 3000 });
    await vi.advanceTimersByTimeAsync(3000);
    t.last.open();
    t.last.push(connected());
    expect(client.getSnapshot().state).toBe('connected');
    t.last.drop();
    expect(client.getSnapshot()).toMatchObject({ state: 'reconnecting', retryIn: 5 });
    client.close();
  });
});

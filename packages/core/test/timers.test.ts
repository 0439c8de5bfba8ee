import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FAR_BEHIND_AFTER, MAX_GRACE, MAX_TIMER_DELAY, Timer, sanitizeDelay, setLongTimeout, systemClock } from '../src/clock';
import type { Clock } from '../src/clock';
import { createClient } from '../src/client';
import type { RefreshFrame, ServerFrame } from '../src/protocol/frames';
import { connected, fakeTransport } from './fake-transport';

/** Kind 2 of the delivery issue: timers fed from the wire or from options must not overflow. */

const DAY = 24 * 60 * 60 * 1000;

/** Every platform timer armed, to check no single one exceeds what setTimeout honours. */
function recordingClock(): Clock & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    now: () => Date.now(),
    setTimeout: (fn, ms) => {
      delays.push(ms);
      return globalThis.setTimeout(fn, ms);
    },
    clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Timer: clamp and chain', () => {
  it.each([40, 30, 24.9, 100])('%s days fires once, at the right time, never arming more than 2^31−1 ms', async (days) => {
    const clock = recordingClock();
    const timer = new Timer(clock);
    const fired: number[] = [];
    const start = Date.now();
    timer.start_(days * DAY, () => fired.push(Date.now() - start));
    await vi.advanceTimersByTimeAsync(days * DAY - 1);
    expect(fired).toEqual([]);
    expect(timer.armed_).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual([days * DAY]);
    await vi.advanceTimersByTimeAsync(200 * DAY);
    expect(fired).toHaveLength(1);
    expect(timer.armed_).toBe(false);
    expect(Math.max(...clock.delays)).toBeLessThanOrEqual(MAX_TIMER_DELAY);
  });

  it('NaN and negative delays mean 0; Infinity never fires; stop() cancels mid-chain', async () => {
    const timer = new Timer(systemClock);
    const fired: string[] = [];
    timer.start_(Number.NaN, () => fired.push('nan'));
    await vi.advanceTimersByTimeAsync(0);
    timer.start_(-5000, () => fired.push('negative'));
    await vi.advanceTimersByTimeAsync(0);
    expect(fired).toEqual(['nan', 'negative']);
    timer.start_(Number.POSITIVE_INFINITY, () => fired.push('infinity'));
    await vi.advanceTimersByTimeAsync(3 * MAX_TIMER_DELAY);
    expect(fired).toEqual(['nan', 'negative']);
    timer.start_(60 * DAY, () => fired.push('cancelled'));
    await vi.advanceTimersByTimeAsync(30 * DAY);
    timer.stop_();
    await vi.advanceTimersByTimeAsync(60 * DAY);
    expect(fired).toEqual(['nan', 'negative']);
    expect(sanitizeDelay(Number.NEGATIVE_INFINITY)).toBe(0);
  });

  it('systemClock.setTimeout (for raw timers) chains and can be cleared mid-chain too', async () => {
    const fired: string[] = [];
    systemClock.setTimeout(() => fired.push('long'), 30 * DAY);
    const cleared = setLongTimeout(() => fired.push('cleared'), 30 * DAY);
    await vi.advanceTimersByTimeAsync(26 * DAY);
    systemClock.clearTimeout(cleared);
    await vi.advanceTimersByTimeAsync(4 * DAY - 1);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['long']);
  });
});

describe('token refresh with an expiry beyond setTimeout range', () => {
  it('expiresIn of 30 days: no refresh storm, one refresh 30 s before expiry', async () => {
    const t = fakeTransport();
    const getToken = vi.fn(() => 'tok');
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory], getToken });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    // A heartbeat as long as the token: the line stays up on a ping every 15 days (chained timers too).
    t.last.push({ ...connected(20 * DAY), expiresIn: 30 * DAY } as ServerFrame);
    expect(client.getSnapshot().state).toBe('connected');
    const refreshes = () => t.last.sent.filter((f): f is RefreshFrame => f.type === 'refresh');
    await vi.advanceTimersByTimeAsync(3000);
    expect(getToken).toHaveBeenCalledTimes(1); // the initial 'connect' only
    expect(refreshes()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(15 * DAY);
    t.last.push({ type: 'ping' });
    await vi.advanceTimersByTimeAsync(15 * DAY - 30_000 - 3000 - 1);
    expect(client.getSnapshot().state).toBe('connected');
    expect(refreshes()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(getToken).toHaveBeenLastCalledWith({ reason: 'refresh' });
    expect(refreshes()).toHaveLength(1);
    client.close();
  });
});

describe('Timer: a late deadline judges fresh information', () => {
  /**
   * A blocked loop seen from the clock: time moves (here the faked `Date`, which `vi.setSystemTime`
   * moves without running timers) while no timer can run. The system clock's `now()` is monotonic,
   * which `setSystemTime` leaves alone, as it should: a wall-clock step is not a blocked loop.
   */
  const blockable: Clock = { ...systemClock, now: () => Date.now() };

  it('fired far behind schedule, it waits half its lateness (capped) so already-arrived I/O is handled first', async () => {
    const timer = new Timer(blockable);
    let state = 'waiting';
    const verdicts: string[] = [];
    timer.start_(2500, () => verdicts.push(state));
    // The event loop is blocked for 4 s: wall time moves, timers cannot run.
    vi.setSystemTime(Date.now() + 4000);
    await vi.advanceTimersByTimeAsync(2500); // now the timer runs, 4 s late
    expect(verdicts).toEqual([]);
    expect(timer.armed_).toBe(true);
    state = 'answered'; // the I/O that arrived during the block is processed
    await vi.advanceTimersByTimeAsync(Math.min(MAX_GRACE, 4000 / 2));
    expect(verdicts).toEqual(['answered']);
    expect(timer.armed_).toBe(false);
  });

  it('slightly late: one yield, no grace; on time: runs at once; the grace is capped', async () => {
    const timer = new Timer(blockable);
    const fired: string[] = [];
    timer.start_(100, () => fired.push('on time'));
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toEqual(['on time']);

    timer.start_(100, () => fired.push('slightly late'));
    vi.setSystemTime(Date.now() + FAR_BEHIND_AFTER - 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toEqual(['on time']);
    await vi.advanceTimersByTimeAsync(1); // one task later (platforms run a 0 ms timer after ≥1 ms)
    expect(fired).toEqual(['on time', 'slightly late']);

    timer.start_(100, () => fired.push('hours late'));
    vi.setSystemTime(Date.now() + 3 * 60 * 60 * 1000); // a laptop waking up
    await vi.advanceTimersByTimeAsync(100);
    await vi.advanceTimersByTimeAsync(MAX_GRACE - 1);
    expect(fired).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['on time', 'slightly late', 'hours late']);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../src/clock';
import { startHeartbeat } from '../src/heartbeat';

/**
 * Liveness by drained bytes: a client whose pings are stuck behind a huge frame cannot answer,
 * but it reads — bytes leaving the send buffer keep it alive; a client that reads nothing is dropped.
 */
const INTERVAL = 2000;
const LIMIT = 2 * INTERVAL + 1000;

const fakeClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

describe('the server heartbeat', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  function start(drained: () => number) {
    const deaths: number[] = [];
    const lastSeen = Date.now();
    const stop = startHeartbeat({ clock: fakeClock, lastSeen: () => lastSeen, ping: () => {}, dead: (silent) => void deaths.push(silent), drained }, INTERVAL);
    return { deaths, stop };
  }

  it('keeps a silent client alive while its send buffer drains, and drops it once draining stops', () => {
    let drained = 0;
    const { deaths, stop } = start(() => drained);
    // 20 s of silence while 1 KiB per 100 ms leaves the buffer (a big frame trickling out).
    for (let t = 0; t < 20_000; t += 100) {
      drained += 1024;
      vi.advanceTimersByTime(100);
    }
    expect(deaths).toEqual([]);
    // The client stops reading: dropped within two allowances (the check that saw the last bytes counts).
    vi.advanceTimersByTime(2 * LIMIT);
    expect(deaths).toHaveLength(1);
    stop();
  });

  it('drops a silent client whose buffer does not drain after one allowance', () => {
    const { deaths, stop } = start(() => 0);
    vi.advanceTimersByTime(LIMIT - 1);
    expect(deaths).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(deaths).toEqual([LIMIT]);
    stop();
  });

  it('does not count a buffer that only grows (sending is not reading)', () => {
    let drained = 0;
    const { deaths, stop } = start(() => drained);
    for (let t = 0; t < LIMIT; t += 100) {
      drained -= 10; // more buffered than sent: what a send does to chars-sent minus bytes-buffered
      vi.advanceTimersByTime(100);
    }
    expect(deaths).toHaveLength(1);
    stop();
  });
});

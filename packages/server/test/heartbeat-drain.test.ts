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

  /** `sent` and `drained` as the session reports them; each ping adds 16 to `sent`. */
  function start(line: { sent: number; drained: number }) {
    const deaths: number[] = [];
    const lastSeen = Date.now();
    const stop = startHeartbeat(
      {
        clock: fakeClock,
        lastSeen: () => lastSeen,
        ping: () => void (line.sent += 16),
        dead: (silent) => void deaths.push(silent),
        outflow: () => ({ sent: line.sent, drained: line.drained }),
      },
      INTERVAL,
    );
    return { deaths, stop };
  }

  it('keeps a silent client alive while a big frame its pings wait behind drains, and drops it once draining stops', () => {
    const line = { sent: 8 * 1024 * 1024, drained: 0 }; // a big frame queued: every ping waits behind it
    const { deaths, stop } = start(line);
    // 20 s of silence while 1 KiB per 100 ms leaves the buffer (a big frame trickling out).
    for (let t = 0; t < 20_000; t += 100) {
      line.drained += 1024;
      vi.advanceTimersByTime(100);
    }
    expect(deaths).toEqual([]);
    // The client stops reading: dropped within two allowances (the check that saw the last bytes counts).
    vi.advanceTimersByTime(2 * LIMIT);
    expect(deaths).toHaveLength(1);
    stop();
  });

  it('drops a silent client whose buffer does not drain after one allowance', () => {
    const { deaths, stop } = start({ sent: 1024, drained: 0 });
    vi.advanceTimersByTime(LIMIT - 1);
    expect(deaths).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(deaths).toEqual([LIMIT]);
    stop();
  });

  it('does not count a buffer that only grows (sending is not reading)', () => {
    const line = { sent: 1024, drained: 0 };
    const { deaths, stop } = start(line);
    for (let t = 0; t < LIMIT; t += 100) {
      line.drained -= 10; // more buffered than sent: what a send does to chars-sent minus bytes-buffered
      vi.advanceTimersByTime(100);
    }
    expect(deaths).toHaveLength(1);
    stop();
  });

  it('drops a client that reads its pings but never answers them', () => {
    const line = { sent: 0, drained: 0 };
    const { deaths, stop } = start(line);
    for (let t = 0; t < LIMIT; t += 100) {
      line.drained = line.sent; // everything reaches the client at once, pings included
      vi.advanceTimersByTime(100);
    }
    expect(deaths).toEqual([LIMIT]);
    stop();
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../src/clock';
import { Outbox } from '../src/outbox';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** An outbox behind a pacer that runs jobs only when `release()` is called (FIFO), recording what reached the wire. */
function pacedOutbox(queueTimeout = 60_000) {
  const sent: string[] = [];
  const jobs: (() => void)[] = [];
  const outbox = new Outbox({
    clock_: systemClock,
    publishTimeout_: 1000,
    queueTimeout_: queueTimeout,
    maxSize_: 100,
    schedule_: (job) => jobs.push(job),
    send_: (t) => sent.push(t),
    canSend_: () => true,
    fits_: () => true,
    limitText_: () => 'unlimited',
  });
  const release = (n = Infinity) => {
    for (let i = 0; i < n && jobs.length > 0; i++) jobs.shift()!();
  };
  return { outbox, sent, release };
}

describe('Outbox: a publish refused rate_limited', () => {
  it('goes again before the publishes after it that were still waiting in the pacer', () => {
    const { outbox, sent, release } = pacedOutbox();
    for (const id of ['a', 'b', 'c', 'd']) void outbox.add_(id, id).catch(() => {});
    release(2); // a and b on the wire; c and d wait for tokens
    expect(sent).toEqual(['a', 'b']);
    outbox.retry('b'); // the server refused b
    release();
    expect(sent).toEqual(['a', 'b', 'b', 'c', 'd']);
  });

  it('an earlier one refused after a later one still goes first', () => {
    const { outbox, sent, release } = pacedOutbox();
    for (const id of ['a', 'b', 'c']) void outbox.add_(id, id).catch(() => {});
    release(3);
    outbox.retry('b');
    outbox.retry('a'); // a was answered after b (a server hold refuses what arrived after b, a had arrived before)
    release();
    expect(sent.slice(3)).toEqual(['a', 'b']);
  });

  it('an rpc refused rate_limited goes behind what waits (rpc promises no order: a call refused again and again must not starve the rest)', () => {
    const { outbox, sent, release } = pacedOutbox();
    void outbox.add_('call', 'call', { atMostOnce: true }).catch(() => {});
    void outbox.add_('p', 'p').catch(() => {});
    release(1);
    outbox.retry('call');
    release();
    expect(sent).toEqual(['call', 'p', 'call']);
  });

  it('refused forever, rejects timeout queueTimeout after publish(), not never', async () => {
    const { outbox, sent, release } = pacedOutbox(2000);
    const start = Date.now();
    const outcome = outbox.add_('spam', 'spam').then(
      () => 'acked',
      (e: { code: string; message: string }) => `${e.code}@${Date.now() - start} ${e.message}`,
    );
    for (let i = 0; i < 10; i++) {
      release();
      await vi.advanceTimersByTimeAsync(250);
      outbox.retry('spam');
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(await Promise.race([outcome, Promise.resolve('pending')])).toMatch(/^timeout@2000 not sent within queueTimeout/);
    expect(sent.length).toBeGreaterThan(3);
    expect(outbox.size_).toBe(0);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../src/clock';
import { ConnectionError, RequestError } from '../src/errors';
import type { OutboxOptions } from '../src/outbox';
import { Outbox } from '../src/outbox';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** An outbox whose line is up when `line.up`; `sent` records what reached the wire. */
function outboxOn(overrides: Partial<OutboxOptions> = {}) {
  const sent: string[] = [];
  const line = { up: true, limit: Infinity };
  const outbox = new Outbox({
    clock_: systemClock,
    publishTimeout_: 1000,
    queueTimeout_: 60_000,
    maxSize_: 100,
    schedule_: (job) => job(),
    send_: (t) => sent.push(t),
    canSend_: () => line.up,
    fits_: (text) => text.length <= line.limit,
    limitText_: () => `${line.limit} bytes`,
    ...overrides,
  });
  const outcome = (id: string, text = id) =>
    outbox.add_(id, text).then(
      () => `${id}:acked@${Date.now()}`,
      (e: { code: string }) => `${id}:${e.code}@${Date.now()}`,
    );
  return { outbox, sent, line, outcome };
}

const ack = (id: string, offset = 1) => ({ type: 'ack' as const, id, epoch: 'e', offset });

describe('Outbox timeouts', () => {
  it('times each publish out exactly `publishTimeout` after it was sent, with one timer for all', async () => {
    const { outbox, sent, outcome } = outboxOn();
    const settled: string[] = [];
    const track = (id: string) => void outcome(id).then((s) => settled.push(s));
    const start = Date.now();
    track('a');
    await vi.advanceTimersByTimeAsync(400);
    track('b');
    for (let i = 0; i < 50; i++) track(`x${i}`);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(400);
    track('c');
    for (let i = 0; i < 50; i++) outbox.ack(ack(`x${i}`, i));
    await vi.advanceTimersByTimeAsync(2000);
    const at = (s: string) => s.replace(/@(\d+)/, (_, t: string) => `@${Number(t) - start}`);
    expect(settled.filter((s) => !s.startsWith('x')).map(at)).toEqual(['a:timeout@1000', 'b:timeout@1400', 'c:timeout@1800']);
    expect(settled.filter((s) => s.startsWith('x')).every((s) => s.includes('acked'))).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(sent).toHaveLength(53);
  });

  it('lets a publish wait offline for `queueTimeout`, not `publishTimeout`, then gives it the full ack wait once sent', async () => {
    const { outbox, sent, line, outcome } = outboxOn({ publishTimeout_: 10_000, queueTimeout_: 300_000 });
    line.up = false;
    const start = Date.now();
    const queued = outcome('offline');
    await vi.advanceTimersByTimeAsync(25_000); // a train tunnel: far past publishTimeout
    expect(outbox.size_).toBe(1);
    line.up = true;
    outbox.flush_();
    expect(sent).toEqual(['offline']);
    await vi.advanceTimersByTimeAsync(9_999);
    outbox.ack(ack('offline'));
    expect(await queued).toBe(`offline:acked@${start + 34_999}`);
  });

  it('rejects a publish that stayed unsent for `queueTimeout`, saying it was never sent', async () => {
    const { outbox, line } = outboxOn({ queueTimeout_: 5000 });
    line.up = false;
    const p = outbox.add_('q', 'q').catch((e: { code: string; context: { sent: boolean } }) => e);
    await vi.advanceTimersByTimeAsync(4999);
    expect(outbox.size_).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(p).resolves.toMatchObject({ code: 'timeout', context: { sent: false } });
  });

  it('restarts the unsent clock when the line drops after sending (the next line gets its own ack wait)', async () => {
    const { outbox, sent, line, outcome } = outboxOn({ publishTimeout_: 1000, queueTimeout_: 5000 });
    const p = outcome('a');
    await vi.advanceTimersByTimeAsync(900);
    line.up = false;
    outbox.requeue_(); // dropped 900 ms into the ack wait
    await vi.advanceTimersByTimeAsync(4000); // offline far beyond publishTimeout, within queueTimeout
    line.up = true;
    outbox.flush_();
    expect(sent).toEqual(['a', 'a']);
    outbox.ack(ack('a'));
    expect(await p).toMatch(/^a:acked/);
  });

  it('never arms a timer for an infinite queueTimeout', async () => {
    const { outbox, line } = outboxOn({ queueTimeout_: Infinity });
    line.up = false;
    const p = outbox.add_('a', 'a').catch((e: { code: string }) => e.code);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(24 * 3600_000);
    expect(outbox.size_).toBe(1);
    outbox.failAll_(new ConnectionError('closed', 'closed'));
    await expect(p).resolves.toBe('closed');
  });

  it('stops its timer when everything fails at once (close)', () => {
    const { outbox, line } = outboxOn();
    line.up = false;
    const p = outbox.add_('a', 'a').catch((e: { code: string }) => e.code);
    outbox.failAll_(new ConnectionError('closed', 'the client was closed'));
    expect(vi.getTimerCount()).toBe(0);
    return expect(p).resolves.toBe('closed');
  });
});

describe('Outbox idempotency and refusals', () => {
  it('joins a publish whose id is already pending instead of sending it twice', async () => {
    const { outbox, sent } = outboxOn();
    const first = outbox.add_('same', 'frame');
    const again = outbox.add_('same', 'frame');
    expect(again).toBe(first);
    expect(sent).toEqual(['frame']);
    outbox.ack(ack('same', 7));
    await expect(again).resolves.toMatchObject({ id: 'same', offset: 7 });
  });

  it('rejects `too_large` at once every queued frame the announced limit no longer admits, and sends the rest', async () => {
    const { outbox, sent, line, outcome } = outboxOn();
    line.up = false;
    const small = outcome('small', 's'.repeat(100));
    const big = outcome('big', 'b'.repeat(40_000));
    const big2 = outcome('big2', 'c'.repeat(9000));
    line.up = true;
    line.limit = 8192;
    outbox.flush_();
    expect(sent).toEqual(['s'.repeat(100)]);
    expect(await big).toMatch(/^big:too_large/);
    expect(await big2).toMatch(/^big2:too_large/);
    outbox.ack(ack('small'));
    expect(await small).toMatch(/^small:acked/);
    // Refused for good: a later line never sees them.
    outbox.requeue_();
    outbox.flush_();
    expect(sent).toHaveLength(1);
  });

  it('rechecks a frame at send time, when the pacer runs it after the limit changed', async () => {
    const jobs: (() => void)[] = [];
    const { sent, line, outcome } = outboxOn({ schedule_: (job) => jobs.push(job) });
    const p = outcome('x', 'x'.repeat(500));
    line.limit = 100;
    jobs.shift()!();
    expect(sent).toEqual([]);
    expect(await p).toMatch(/^x:too_large/);
  });

  it('retries a publish refused `rate_limited` with the same frame, and never resends one refused for good', async () => {
    const { outbox, sent, outcome } = outboxOn();
    const limited = outcome('l', 'L');
    const refused = outcome('r', 'R');
    expect(outbox.retry('l')).toBe(true);
    expect(outbox.refuse('r', new RequestError('too_large', 'frame exceeds maxPayload'))).toBe(true);
    outbox.requeue_();
    outbox.flush_();
    expect(sent).toEqual(['L', 'R', 'L', 'L']);
    outbox.ack(ack('l'));
    expect(await limited).toMatch(/^l:acked/);
    expect(await refused).toMatch(/^r:too_large/);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../src/clock';
import { ConnectionError } from '../src/errors';
import { Outbox } from '../src/outbox';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Outbox timeouts', () => {
  it('times each publish out exactly `timeout` after its own publish, with one timer for all', async () => {
    const sent: string[] = [];
    const outbox = new Outbox({ clock: systemClock, timeout: 1000, maxSize: 100, send: (t) => sent.push(t), canSend: () => true });
    const settled: string[] = [];
    const track = (id: string) =>
      outbox.add(id, id).then(
        () => settled.push(`${id}:acked@${Date.now()}`),
        (e: { code: string }) => settled.push(`${id}:${e.code}@${Date.now()}`),
      );
    const start = Date.now();
    void track('a');
    await vi.advanceTimersByTimeAsync(400);
    void track('b');
    for (let i = 0; i < 50; i++) void track(`x${i}`);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(400);
    void track('c');
    for (let i = 0; i < 50; i++) outbox.ack({ type: 'ack', id: `x${i}`, epoch: 'e', offset: i });
    await vi.advanceTimersByTimeAsync(2000);
    const at = (s: string) => s.replace(/@(\d+)/, (_, t: string) => `@${Number(t) - start}`);
    expect(settled.filter((s) => !s.startsWith('x')).map(at)).toEqual(['a:timeout@1000', 'b:timeout@1400', 'c:timeout@1800']);
    expect(settled.filter((s) => s.startsWith('x')).every((s) => s.includes('acked'))).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(sent).toHaveLength(53);
  });

  it('stops its timer when everything fails at once (close)', () => {
    const outbox = new Outbox({ clock: systemClock, timeout: 1000, maxSize: 10, send: () => {}, canSend: () => false });
    const p = outbox.add('a', 'a').catch((e: { code: string }) => e.code);
    outbox.failAll(new ConnectionError('closed', 'the client was closed'));
    expect(vi.getTimerCount()).toBe(0);
    return expect(p).resolves.toBe('closed');
  });
});

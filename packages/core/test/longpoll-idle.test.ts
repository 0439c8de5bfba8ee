import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { longpoll } from '../src/transports/longpoll';
import { fakeFetch, fullRecorder, type SeenRequest } from './http-line-fake';

const URL_ = 'https://rt.test/tidewire';

/**
 * Long polling after answers that bring nothing new (longpoll.ts BOUNCED_WITHIN): an answer held by
 * the server until its poll timeout is followed by the next poll at once, however many come in a row
 * (a healthy idle channel: its next message must not wait); answers bounced at once by something in
 * between are followed, from the second in a row, by a growing pause (never a tight loop).
 */
describe('long polling: answers that bring nothing new', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  /** A server answering every poll with an empty batch after `holdMs`; the times its polls arrived. */
  function emptyAnswers(holdMs: number) {
    const polledAt: number[] = [];
    const { fetch } = fakeFetch((req: SeenRequest) => {
      if (req.method === 'POST') return req.url.includes('sid=') ? new Response(null, { status: 204 }) : Response.json({ sid: 'p1' });
      if (req.method === 'DELETE') return new Response(null, { status: 204 });
      polledAt.push(performance.now());
      return new Promise<Response>((resolve) => setTimeout(() => resolve(Response.json({ seq: 0, frames: [] })), holdMs));
    });
    return { fetch, polledAt };
  }
  const gaps = (times: number[]) => times.slice(1).map((t, i) => Math.round(t - times[i]!));

  it('polls again at once after answers held until the server\'s poll timeout, however many in a row', async () => {
    const { fetch, polledAt } = emptyAnswers(300);
    const transport = longpoll({ fetch }).open({ url: URL_ }, fullRecorder().events);
    await vi.advanceTimersByTimeAsync(3000);
    transport.close();
    expect(polledAt.length).toBeGreaterThanOrEqual(9);
    expect(new Set(gaps(polledAt))).toEqual(new Set([300])); // each poll as the previous answer arrived
  });

  it('pauses, growing to 1 s, after the second answer in a row bounced at once', async () => {
    const { fetch, polledAt } = emptyAnswers(0);
    const transport = longpoll({ fetch }).open({ url: URL_ }, fullRecorder().events);
    await vi.advanceTimersByTimeAsync(5000);
    transport.close();
    const pauses = gaps(polledAt);
    // Each gap also holds the fake answer's own 1 ms (a 0 ms timer): the pause is the rest.
    expect(pauses[0]).toBeLessThanOrEqual(1); // the first bounced answer: polled again at once
    expect(pauses.slice(1, 6).map((gap) => gap - 1)).toEqual([100, 200, 400, 800, 1000]);
    expect(polledAt.length).toBeLessThan(12); // before: thousands
  });
});

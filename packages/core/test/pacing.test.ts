import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../src/clock';
import { createClient } from '../src/client';
import type { ClientFrame, ServerFrame, SubscribeFrame } from '../src/protocol/frames';
import { RequestPacer } from '../src/request-pacer';
import { connected, connectedClient, fakeTransport } from './fake-transport';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** The largest number of `times` within any window of `windowMs` (a sliding-window count, as a token bucket allows). */
function peakIn(times: number[], windowMs: number): number {
  let peak = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

/** A fake line that records when each request frame was sent. */
function recordingLine(frames: ClientFrame[], at: number[]) {
  return (frame: ClientFrame) => {
    if (frame.type === 'subscribe' || frame.type === 'publish') {
      frames.push(frame);
      at.push(Date.now());
    }
  };
}

describe('RequestPacer', () => {
  it('runs jobs at once while the burst lasts, then one per token, in order', async () => {
    const pacer = new RequestPacer(systemClock);
    pacer.reset_({ rate: 100, burst: 200 });
    const ran: number[] = [];
    for (let i = 0; i < 400; i++) pacer.enqueue_(() => ran.push(i));
    const burst = ran.length;
    expect(burst).toBe(150); // 75% of the server's burst: the rest is headroom for pongs and unsubscribes
    await vi.advanceTimersByTimeAsync(1000);
    expect(ran.length - burst).toBeLessThanOrEqual(90); // 90% of the server's rate
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ran).toEqual(Array.from({ length: 400 }, (_, i) => i));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('holds every job during a pause (a server retryAfter) and forgets queued jobs on clear', async () => {
    const pacer = new RequestPacer(systemClock);
    pacer.reset_({ rate: 10, burst: 2 });
    const ran: string[] = [];
    pacer.enqueue_(() => ran.push('a'));
    pacer.pause(500);
    pacer.enqueue_(() => ran.push('b'));
    await vi.advanceTimersByTimeAsync(499);
    expect(ran).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual(['a', 'b']);
    for (let i = 0; i < 5; i++) pacer.enqueue_(() => ran.push(`x${i}`));
    pacer.clear_();
    await vi.advanceTimersByTimeAsync(5000);
    expect(ran).toEqual(['a', 'b']);
  });

  it('a pause for one job holds that job back, in its order, while the others go on', async () => {
    const pacer = new RequestPacer(systemClock);
    const ran: string[] = [];
    let sent = 0;
    const send = () => ran.push(`send${++sent}`);
    pacer.pause(500, send);
    pacer.enqueue_(send);
    pacer.enqueue_(() => ran.push('subscribe'));
    pacer.enqueue_(send);
    pacer.enqueue_(() => ran.push('history'));
    await vi.advanceTimersByTimeAsync(100); // (from a nearly empty bucket: one token, then the sustained rate)
    expect(ran).toEqual(['subscribe', 'history']);
    await vi.advanceTimersByTimeAsync(399);
    expect(ran).toEqual(['subscribe', 'history']);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual(['subscribe', 'history', 'send1', 'send2']);
    // A pause of everything still holds every job.
    pacer.pause(300);
    pacer.enqueue_(send);
    pacer.enqueue_(() => ran.push('late subscribe'));
    await vi.advanceTimersByTimeAsync(299);
    expect(ran).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1000);
    expect(ran.slice(4)).toEqual(['send3', 'late subscribe']);
  });
});

/** A client whose first publish (to `channel`, data 'x') waits for the line; then the line comes up. */
async function publishThenConnect(channel: string) {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory] });
  const published = client.publish(channel, 'x');
  await vi.advanceTimersByTimeAsync(0);
  t.last.open();
  t.last.push(connected());
  return { t, client, published };
}

describe('recovery traffic within the server limits', () => {
  async function clientWith(channels: number, limits?: { rate: number; burst: number }) {
    const t = fakeTransport();
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory], backoff: () => 50 });
    const handles = Array.from({ length: channels }, (_, i) => client.channel(`c${i}`));
    await vi.advanceTimersByTimeAsync(0);
    const frames: ClientFrame[] = [];
    const at: number[] = [];
    const record = recordingLine(frames, at);
    const open = () => {
      t.last.open();
      t.last.push({ ...(connected() as Extract<ServerFrame, { type: 'connected' }>), ...(limits && { limits }) });
    };
    /** Answer every subscribe sent so far on the current line. */
    const answerAll = () => {
      for (const f of t.last.sent.splice(0)) {
        record(f);
        if (f.type === 'subscribe') t.last.push({ type: 'subscribed', id: f.id, channel: f.channel, epoch: 'e', offset: 0, recovered: true });
        if (f.type === 'publish') t.last.push({ type: 'ack', id: f.id, epoch: 'e', offset: 1 });
      }
    };
    return { t, client, handles, frames, at, open, answerAll };
  }

  it('resubscribes 700 channels after a cut within the default limits (burst 200, 100/s), all reaching subscribed', async () => {
    const { t, client, handles, frames, at, open, answerAll } = await clientWith(700);
    open();
    answerAll();
    await vi.advanceTimersByTimeAsync(10_000);
    answerAll();
    expect(handles.every((h) => h.getSnapshot().state === 'subscribed')).toBe(true);
    t.last.drop();
    frames.length = at.length = 0;
    await vi.advanceTimersByTimeAsync(50);
    open();
    for (let ms = 0; ms < 15_000; ms += 100) {
      answerAll();
      await vi.advanceTimersByTimeAsync(100);
    }
    answerAll();
    expect(handles.filter((h) => h.getSnapshot().state !== 'subscribed')).toEqual([]);
    expect(frames.filter((f) => f.type === 'subscribe')).toHaveLength(700);
    expect(peakIn(at, 1)).toBeLessThanOrEqual(200); // never more at once than the server's burst
    expect(peakIn(at, 1000)).toBeLessThanOrEqual(200 + 100); // nor more in a second than burst + rate
    client.close();
  });

  it('paces by the limits the server announced in `connected`', async () => {
    const { client, handles, at, open, answerAll } = await clientWith(60, { rate: 10, burst: 20 });
    open();
    for (let ms = 0; ms < 10_000; ms += 50) {
      answerAll();
      await vi.advanceTimersByTimeAsync(50);
    }
    answerAll();
    expect(handles.every((h) => h.getSnapshot().state === 'subscribed')).toBe(true);
    expect(peakIn(at, 1)).toBeLessThanOrEqual(20);
    expect(peakIn(at, 1000)).toBeLessThanOrEqual(20 + 10);
    client.close();
  });

  it('flushes 400 publishes queued offline within the limits, every one acked once', async () => {
    const { client, frames, at, open, answerAll } = await clientWith(0);
    const acks = Array.from({ length: 400 }, (_, i) => client.publish('room', i));
    await vi.advanceTimersByTimeAsync(0); // the first publish opens the line (lazy)
    open();
    for (let ms = 0; ms < 10_000; ms += 100) {
      answerAll();
      await vi.advanceTimersByTimeAsync(100);
    }
    const results = await Promise.all(acks);
    expect(new Set(results.map((r) => r.id)).size).toBe(400);
    expect(frames.filter((f) => f.type === 'publish')).toHaveLength(400);
    expect(peakIn(at, 1000)).toBeLessThanOrEqual(300);
    client.close();
  });

  it('retries a publish refused rate_limited after retryAfter with the same id, instead of rejecting it', async () => {
    const { t, client, published: p } = await publishThenConnect('room');
    const publishes = () => t.last.sent.filter((f): f is Extract<ClientFrame, { type: 'publish' }> => f.type === 'publish');
    t.last.push({ type: 'error', id: publishes()[0]!.id, code: 'rate_limited', message: 'slow down', retryAfter: 250 });
    await vi.advanceTimersByTimeAsync(249);
    expect(publishes()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(publishes().map((f) => f.id)).toEqual([publishes()[0]!.id, publishes()[0]!.id]);
    t.last.push({ type: 'ack', id: publishes()[0]!.id, epoch: 'e', offset: 1 });
    await expect(p).resolves.toMatchObject({ offset: 1 });
    client.close();
  });

  it('a rate_limited answer to a publish no longer pending (cancelled) pauses nothing', async () => {
    const { t, client, published } = await publishThenConnect('slow');
    void published.catch(() => {});
    const first = t.last.sent.find((f) => f.type === 'publish') as Extract<ClientFrame, { type: 'publish' }>;
    client.cancelPublish(first.id);
    t.last.push({ type: 'error', id: first.id, code: 'rate_limited', message: 'slow mode', retryAfter: 15_000 });
    client.channel('other');
    await vi.advanceTimersByTimeAsync(10);
    expect(t.last.sent.filter((f) => f.type === 'subscribe').map((f) => f.channel)).toEqual(['other']);
    client.close();
  });

  it('refusals with a retryAfter of 0 do not outrun the client\'s own bucket (no fresh token per refusal)', async () => {
    const { t, client } = await connectedClient({ ...connected(), limits: { rate: 100, burst: 200 } } as ServerFrame);
    client.channel('room');
    // The server refuses every subscribe at once, telling the client to come back at once.
    let refused = 0;
    const refuseAll = setInterval(() => {
      for (const f of t.last.sent.splice(0)) {
        if (f.type !== 'subscribe') continue;
        refused++;
        t.last.push({ type: 'error', id: f.id, code: 'rate_limited', message: 'no', retryAfter: 0 });
      }
    }, 1);
    await vi.advanceTimersByTimeAsync(2000);
    clearInterval(refuseAll);
    // 90 % of 100/s, plus the bucket's first 150: before, ~700 a second.
    expect(refused).toBeGreaterThan(10);
    expect(refused).toBeLessThanOrEqual(150 + 2 * 90 + 2);
    client.close();
  });

  it('a history read waiting in the paused pacer counts its 10 s deadline from sending, not from the call', async () => {
    const { t, client } = await connectedClient({ ...connected(), features: ['history'] } as ServerFrame);
    const room = client.channel('room');
    await vi.advanceTimersByTimeAsync(0);
    const subscribe = t.last.sent.find((f) => f.type === 'subscribe')!;
    // The server's frame rate refused the subscribe: every request waits 15 s.
    t.last.push({ type: 'error', id: (subscribe as SubscribeFrame).id, code: 'rate_limited', message: 'too many frames', retryAfter: 15_000 });
    let settled: unknown;
    const page = room.history({ limit: 5 }).then((p) => (settled = p), (e: unknown) => (settled = e));
    await vi.advanceTimersByTimeAsync(14_000);
    expect(settled).toBeUndefined();
    expect(t.last.sent.some((f) => f.type === 'history')).toBe(false);
    await vi.advanceTimersByTimeAsync(2000);
    const read = t.last.sent.find((f) => f.type === 'history') as { id: string } | undefined;
    expect(read).toBeDefined();
    expect(settled).toBeUndefined(); // 16 s after the call, 1 s after sending: still waiting for its answer
    t.last.push({ type: 'history_page', id: read!.id, channel: 'room', epoch: 'e', head: 0, messages: [], more: false });
    await page;
    expect(settled).toMatchObject({ messages: [], hasMore: false });
    client.close();
  });

  it('a publish refused rate_limited (one channel\'s slow mode) holds back publishes, not a subscribe on another channel', async () => {
    const { t, client, published: slow } = await publishThenConnect('slow');
    const sent = () => t.last.sent.filter((f) => f.type === 'publish' || f.type === 'subscribe');
    const first = sent()[0] as Extract<ClientFrame, { type: 'publish' }>;
    t.last.push({ type: 'error', id: first.id, code: 'rate_limited', message: 'slow mode', retryAfter: 5000 });
    // During the hold: another channel's subscribe goes out; a later publish waits behind the refused one.
    client.channel('other');
    const later = client.publish('other', 'y');
    await vi.advanceTimersByTimeAsync(10);
    expect(sent().slice(1).map((f) => `${f.type} ${f.channel}`)).toEqual(['subscribe other']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent().slice(2).map((f) => `${f.type} ${f.channel}`)).toEqual(['publish slow', 'publish other']);
    for (const f of sent().slice(2)) t.last.push({ type: 'ack', id: (f as { id: string }).id, epoch: 'e', offset: 1 });
    await expect(slow).resolves.toMatchObject({ offset: 1 });
    await expect(later).resolves.toMatchObject({ offset: 1 });
    client.close();
  });

  it('drops paced frames queued for a line that died, and sends them on the next one', async () => {
    const { t, client, handles, open } = await clientWith(300);
    open();
    const firstLine = t.last;
    const sentOnFirst = firstLine.sent.filter((f): f is SubscribeFrame => f.type === 'subscribe').length;
    expect(sentOnFirst).toBeLessThan(300);
    firstLine.drop();
    await vi.advanceTimersByTimeAsync(2000);
    expect(firstLine.sent.filter((f) => f.type === 'subscribe')).toHaveLength(sentOnFirst);
    open();
    await vi.advanceTimersByTimeAsync(5000);
    expect(new Set(t.last.sent.flatMap((f) => (f.type === 'subscribe' ? [f.channel] : []))).size).toBe(300);
    expect(handles).toHaveLength(300);
    client.close();
  });
});

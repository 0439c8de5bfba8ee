import { describe, expect, it } from 'vitest';
import type { PublishResult, TidewireError } from '@tidewire/core';
import { PublishRefusal } from '@tidewire/server';
import { allTransports, startQuietServer } from './helpers/transports';

/**
 * Publishes sent without awaiting each other stay in publish order across a `rate_limited`
 * refusal (protocol §8): the server holds back what the client sent after the refused publish
 * until that one comes back, and the client sends the refused one again in its place, before
 * what it published later. Against the real server, over every transport; the stored history
 * is the truth checked: every publish stored once, offsets in publish order.
 */
describe.each(allTransports)('rate-limited publishes keep publish order over %s', (_name, transport) => {
  /** Publish 0..n-1 without awaiting; check acks and history: each stored once, in order. */
  async function publishInOrder(t: Awaited<ReturnType<typeof startQuietServer>>, n: number) {
    const publisher = t.client();
    const errors: TidewireError[] = [];
    publisher.on('error', (e) => errors.push(e));
    const values = Array.from({ length: n }, (_, i) => i);
    const acks: PublishResult[] = await Promise.all(values.map((i) => publisher.publish('room', i)));
    expect(acks.map((a) => a.offset)).toEqual(values.map((i) => i + 1));
    const page = await publisher.channel('room').history({ limit: 100 });
    const stored = [...page.messages].sort((a, b) => a.offset - b.offset).map((m) => m.data);
    expect(stored).toEqual(values);
    expect(errors.filter((e) => e.code !== 'rate_limited')).toEqual([]);
    return errors.filter((e) => e.code === 'rate_limited');
  }

  it('one publish refused once by onPublish: those sent after it wait for it', async () => {
    let refused = false;
    await using t = await startQuietServer(transport, {
      onPublish: ({ data }) => {
        if (data === 1 && !refused) {
          refused = true;
          throw new PublishRefusal('slow down', 'rate_limited', { retryAfter: 200 });
        }
      },
    });
    const limited = await publishInOrder(t, 5);
    expect(refused).toBe(true);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    for (const e of limited) expect(e.context.retryAfter).toBeGreaterThan(0);
  }, 30_000);

  it("one channel's slow mode (a publish refused rate_limited by onPublish) holds back publishes, not a subscribe or a history read elsewhere", async () => {
    let refused = false;
    await using t = await startQuietServer(transport, {
      onPublish: ({ channel }) => {
        if (channel === 'slow' && !refused) {
          refused = true;
          throw new PublishRefusal('slow mode', 'rate_limited', { retryAfter: 8000 }); // room for a loaded machine: the reads below take milliseconds
        }
      },
    });
    const client = t.client();
    let slowSettled = false;
    const slow = client.publish('slow', 'x').finally(() => (slowSettled = true));
    const deadline = Date.now() + 5000;
    while (!refused && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(refused).toBe(true);
    // While the refused publish waits out its retryAfter, requests of other kinds are not frozen behind it.
    const other = client.channel('other');
    const page = await other.history({ limit: 10 });
    expect(page.messages).toEqual([]);
    await new Promise<void>((resolve) => {
      if (other.getSnapshot().state === 'subscribed') return resolve();
      const off = other.subscribe(() => other.getSnapshot().state === 'subscribed' && (off(), resolve()));
    });
    expect(slowSettled).toBe(false);
    await expect(slow).resolves.toMatchObject({ offset: 1 });
  }, 30_000);

  it('an onPublish limit of 2 per 300 ms under a burst of 10', async () => {
    const times: number[] = [];
    let refusals = 0;
    await using t = await startQuietServer(transport, {
      onPublish: () => {
        const now = Date.now();
        while (times.length > 0 && now - times[0]! > 300) times.shift();
        if (times.length >= 2) {
          refusals++;
          throw new PublishRefusal('at most 2 per 300 ms', 'rate_limited', { retryAfter: 150 });
        }
        times.push(now);
      },
    });
    await publishInOrder(t, 10);
    expect(refusals).toBeGreaterThan(0);
  }, 60_000);

  it("the server's own frame-rate limit (limits.rate) refusing part of a burst", async () => {
    // 0.8 frames a second, burst 1: `connected` announces whole frames (1/s), so the client's pacer
    // sends faster than the server refills and the server itself refuses some publishes.
    await using t = await startQuietServer(transport, { limits: { rate: { perSecond: 0.8, burst: 1 } } });
    const limited = await publishInOrder(t, 4);
    expect(limited.length).toBeGreaterThan(0);
    expect(t.server.metrics().refused.rate_limited).toBe(limited.length);
  }, 60_000);
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import type { ChannelMessage, GapInfo } from '../src/channel-state';
import type { ServerFrame, SubscribeFrame } from '../src/protocol/frames';
import type { StandardSchemaV1 } from '../src/schema';
import { connected, fakeTransport } from './fake-transport';

const msg = (offset: number, epoch = 'e1'): ServerFrame => ({ type: 'message', channel: 'room', epoch, offset, id: `m${offset}`, data: offset });

async function setup(options: { reorderWindow?: number; publishTimeout?: number; queueTimeout?: number; maxQueue?: number } = {}) {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory], backoff: () => 10, ...options });
  const ch = client.channel('room');
  const got: number[] = [];
  const gaps: GapInfo[] = [];
  ch.on('message', (m: ChannelMessage) => got.push(m.offset));
  ch.on('gap', (g) => gaps.push(g));
  await vi.advanceTimersByTimeAsync(0);
  const accept = (subscribed?: Partial<Extract<ServerFrame, { type: 'subscribed' }>>) => {
    t.last.open();
    t.last.push(connected());
    const sub = t.last.sent.find((f): f is SubscribeFrame => f.type === 'subscribe')!;
    t.last.push({ type: 'subscribed', id: sub.id, channel: 'room', epoch: 'e1', offset: 0, recovered: true, ...subscribed });
    return sub;
  };
  return { t, client, ch, got, gaps, accept };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('channel delivery contract', () => {
  it('delivers in offset order, drops duplicates and holds back out-of-order messages', async () => {
    const { t, client, got, accept } = await setup();
    accept();
    for (const o of [1, 2, 2, 4, 3, 1, 5]) t.last.push(msg(o));
    expect(got).toEqual([1, 2, 3, 4, 5]);
    client.close();
  });

  it('asks the server to replay a hole that does not close within the reorder window', async () => {
    const { t, client, got, accept } = await setup({ reorderWindow: 500 });
    accept();
    t.last.push(msg(1));
    t.last.push(msg(3));
    await vi.advanceTimersByTimeAsync(499);
    expect(t.last.sent.filter((f) => f.type === 'subscribe')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    const resub = t.last.sent.filter((f): f is SubscribeFrame => f.type === 'subscribe')[1];
    expect(resub?.since).toEqual({ epoch: 'e1', offset: 1 });
    t.last.push({ type: 'subscribed', id: resub!.id, channel: 'room', epoch: 'e1', offset: 1, recovered: true });
    t.last.push(msg(2));
    t.last.push(msg(3));
    expect(got).toEqual([1, 2, 3]);
    client.close();
  });

  it('resubscribes from its position after a reconnect and emits `gap` when history cannot cover it', async () => {
    const { t, client, got, gaps, accept } = await setup();
    accept();
    t.last.push(msg(1));
    t.last.push(msg(2));
    t.last.drop();
    await vi.advanceTimersByTimeAsync(10);
    const sub = accept({ epoch: 'e2', offset: 40, recovered: false });
    expect(sub.since).toEqual({ epoch: 'e1', offset: 2 });
    t.last.push(msg(41, 'e2'));
    expect(gaps).toEqual([{ channel: 'room', reason: 'epoch_changed', from: { epoch: 'e1', offset: 2 }, to: { epoch: 'e2', offset: 40 } }]);
    expect(got).toEqual([1, 2, 41]);
    expect(client.channel('room').getSnapshot()).toMatchObject({ state: 'subscribed', recovered: false });
    client.close();
  });

  it('shares one subscription between handles and unsubscribes one tick after the last release', async () => {
    const { t, client, ch, accept } = await setup();
    accept();
    const second = client.channel('room');
    const seen: number[] = [];
    second.on('message', (m) => seen.push(m.offset));
    ch.unsubscribe();
    t.last.push(msg(1));
    expect(seen).toEqual([1]);
    second.unsubscribe();
    const third = client.channel('room'); // re-acquired within the tick: no unsubscribe/subscribe churn
    await vi.advanceTimersByTimeAsync(1);
    expect(t.last.sent.map((f) => f.type)).toEqual(['connect', 'subscribe']);
    third.unsubscribe();
    await vi.advanceTimersByTimeAsync(1);
    expect(t.last.sent.map((f) => f.type)).toEqual(['connect', 'subscribe', 'unsubscribe']);
    client.close();
  });

  it('reports a refused subscribe as a typed error on the channel', async () => {
    const { t, client, ch } = await setup();
    const errors: unknown[] = [];
    ch.on('error', (e) => errors.push(e));
    t.last.open();
    t.last.push(connected());
    const sub = t.last.sent.find((f): f is SubscribeFrame => f.type === 'subscribe')!;
    t.last.push({ type: 'error', id: sub.id, code: 'forbidden', message: 'not yours' });
    expect(errors[0]).toMatchObject({ name: 'RequestError', code: 'forbidden' });
    expect(ch.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'forbidden' } });
    client.close();
  });

  it('validates inbound data against the schema and reports, not drops, a bad message', async () => {
    const t = fakeTransport();
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory] });
    const numberSchema: StandardSchemaV1<unknown, number> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (v) => (typeof v === 'number' ? { value: v } : { issues: [{ message: 'expected a number' }] }),
      },
    };
    const ch = client.channel('room', { schema: numberSchema });
    const values: number[] = [];
    const errors: unknown[] = [];
    ch.on('message', (m) => values.push(m.data));
    ch.on('error', (e) => errors.push(e));
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    const sub = t.last.sent.find((f): f is SubscribeFrame => f.type === 'subscribe')!;
    t.last.push({ type: 'subscribed', id: sub.id, channel: 'room', epoch: 'e', offset: 0, recovered: true });
    t.last.push({ type: 'message', channel: 'room', epoch: 'e', offset: 1, id: 'a', data: 7 });
    t.last.push({ type: 'message', channel: 'room', epoch: 'e', offset: 2, id: 'b', data: 'seven' });
    expect(values).toEqual([7]);
    expect(errors[0]).toMatchObject({ code: 'validation_failed', context: { offset: 2, data: 'seven' } });
    await expect(ch.publish('x' as unknown as number)).rejects.toMatchObject({ code: 'validation_failed' });
    client.close();
  });
});

describe('publish contract', () => {
  it('queues while offline, sends on connect, and resolves with the acked position', async () => {
    const { t, client, accept } = await setup();
    const p = client.publish('room', { hi: 1 });
    accept();
    const pub = t.last.sent.find((f) => f.type === 'publish')!;
    expect(pub).toMatchObject({ channel: 'room', data: { hi: 1 } });
    t.last.push({ type: 'ack', id: (pub as { id: string }).id, epoch: 'e1', offset: 9 });
    await expect(p).resolves.toEqual({ id: (pub as { id: string }).id, epoch: 'e1', offset: 9 });
    client.close();
  });

  it('re-sends an unacknowledged publish with the same id after a reconnect', async () => {
    const { t, client, accept } = await setup();
    accept();
    const p = client.publish('room', 'x');
    const first = t.last.sent.find((f) => f.type === 'publish') as { id: string };
    t.last.drop();
    await vi.advanceTimersByTimeAsync(10);
    accept();
    const again = t.last.sent.find((f) => f.type === 'publish') as { id: string };
    expect(again.id).toBe(first.id);
    t.last.push({ type: 'ack', id: again.id, epoch: 'e1', offset: 1 });
    await expect(p).resolves.toMatchObject({ id: first.id });
    client.close();
  });

  it('rejects with timeout, queue_full and too_large — typed, nothing silent', async () => {
    // Never connected: the publishes time out in the queue (queueTimeout), not waiting for an ack.
    const { client } = await setup({ queueTimeout: 1000, maxQueue: 2 });
    const a = client.publish('room', 1);
    // No limit announced yet: only the server's `connected` says how large a frame may be.
    const large = client.publish('room', 'x'.repeat(70_000));
    await expect(client.publish('room', 3)).rejects.toMatchObject({ code: 'queue_full' });
    const settled = Promise.allSettled([a, large]);
    await vi.advanceTimersByTimeAsync(1000);
    const results = await settled;
    expect(results.map((r) => r.status === 'rejected' && (r.reason as { code: string }).code)).toEqual(['timeout', 'timeout']);
    client.close();
  });

  it("refuses too_large at publish() once `connected` announced the server's maxPayload", async () => {
    const { t, client, accept } = await setup();
    accept();
    await expect(client.publish('room', 'x'.repeat(70_000))).rejects.toMatchObject({ code: 'too_large' }); // connected() announces 64 KiB
    expect(t.last.sent.filter((f) => f.type === 'publish')).toEqual([]);
    client.close();
  });

  it('lists a publish as pending until it settles, however it settles — and no longer once its promise resolves', async () => {
    const { t, client, accept } = await setup({ queueTimeout: 1000, maxQueue: 2 });
    const listed = () => client.listPendingPublishes().map((p) => p.data);
    const timedOut = client.publish('room', 'queued').catch((e: { code: string }) => e.code);
    const refused = client.publish('room', 'refused').catch((e: { code: string }) => e.code);
    expect(await client.publish('room', 'full').catch((e: { code: string }) => e.code)).toBe('queue_full');
    expect(listed()).toEqual(['queued', 'refused']); // the one refused queue_full was never pending
    await vi.advanceTimersByTimeAsync(1000);
    expect(await timedOut).toBe('timeout');
    expect(await refused).toBe('timeout');
    expect(listed()).toEqual([]);
    accept();
    const acked = client.publish('room', 'acked').then(() => listed());
    const cancelled = client.publish('room', 'cancelled').catch((e: { code: string }) => [e.code, ...listed()]);
    const [a, c] = t.last.sent.filter((f): f is Extract<typeof f, { type: 'publish' }> => f.type === 'publish');
    t.last.push({ type: 'ack', id: a!.id, epoch: 'e1', offset: 1 });
    expect(await acked).toEqual(['cancelled']); // already gone when the publisher resumes
    expect(client.cancelPublish(c!.id)).toBe(true);
    expect(await cancelled).toEqual(['aborted']);
    client.close();
  });

  it('gives every publish its own random 22-character id', async () => {
    const { t, client, accept } = await setup();
    accept();
    for (let i = 0; i < 200; i++) void client.publish('room', i).catch(() => {});
    await vi.advanceTimersByTimeAsync(2000); // past the burst, the pacer sends the rest at the server's rate
    const ids = t.last.sent.flatMap((f) => (f.type === 'publish' ? [f.id] : []));
    expect(ids).toHaveLength(200);
    expect(new Set(ids).size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9+/_-]{21,22}$/); // 128-bit base64 or nanoid
    client.close();
  });

  it('never resends a publish the server refused too_large, and the other pending ones are undisturbed', async () => {
    const { t, client, accept } = await setup();
    accept();
    const refused = client.publish('room', 'big').catch((e: { code: string }) => e.code);
    const other = client.publish('room', 'small');
    const [big, small] = t.last.sent.filter((f): f is Extract<typeof f, { type: 'publish' }> => f.type === 'publish');
    t.last.push({ type: 'error', id: big!.id, code: 'too_large', message: 'frame exceeds maxPayload' });
    expect(await refused).toBe('too_large');
    t.last.drop();
    await vi.advanceTimersByTimeAsync(10);
    accept();
    const resent = t.last.sent.flatMap((f) => (f.type === 'publish' ? [f.id] : []));
    expect(resent).toEqual([small!.id]);
    t.last.push({ type: 'ack', id: small!.id, epoch: 'e1', offset: 1 });
    await expect(other).resolves.toMatchObject({ offset: 1 });
    client.close();
  });

  it('takes an idempotency key: publish(data, { id }) sends that id; an invalid one rejects bad_request unsent', async () => {
    const { t, client, ch, accept } = await setup();
    accept();
    const pending = [ch.publish('a', { id: 'order-1' }), client.publish('room', 'b', { id: 'order-2' })].map((p) => p.catch(() => 'closed'));
    for (const id of ['', 'x'.repeat(65)]) await expect(ch.publish('c', { id })).rejects.toMatchObject({ code: 'bad_request' });
    expect(t.last.sent.flatMap((f) => (f.type === 'publish' ? [f.id] : []))).toEqual(['order-1', 'order-2']);
    client.close();
    await Promise.all(pending);
  });

  it('maps a server refusal to a RequestError with the server code', async () => {
    const { t, client, accept } = await setup();
    accept();
    const p = client.publish('room', 1);
    const pub = t.last.sent.find((f) => f.type === 'publish') as { id: string };
    t.last.push({ type: 'error', id: pub.id, code: 'forbidden', message: 'not yours' });
    await expect(p).rejects.toMatchObject({ name: 'RequestError', code: 'forbidden' });
    client.close();
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import type { ClientOptions } from '../src/client';
import type { ChannelMessage, GapInfo } from '../src/channel-state';
import type { TidewireError } from '../src/errors';
import type { ServerFrame, SubscribeFrame } from '../src/protocol/frames';
import { systemClock } from '../src/clock';
import { MAX_BUFFERED, SharedChannel } from '../src/shared-channel';
import type { ChannelHost } from '../src/shared-channel';
import { Requests } from '../src/requests';
import { connected, fakeTransport } from './fake-transport';

const msg = (offset: number, epoch = 'e1'): ServerFrame => ({ type: 'message', channel: 'room', epoch, offset, id: `m${offset}`, data: offset });

/** A client on a fake line with one channel `room` subscribed at e1:0. */
async function subscribedRoom(options: Partial<ClientOptions> = {}) {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory], backoff: () => 100, ...options });
  const ch = client.channel('room');
  const got: number[] = [];
  const gaps: GapInfo[] = [];
  const channelErrors: TidewireError[] = [];
  const clientErrors: TidewireError[] = [];
  ch.on('message', (m: ChannelMessage) => got.push(m.offset));
  ch.on('gap', (g) => gaps.push(g));
  ch.on('error', (e) => channelErrors.push(e));
  client.on('error', (e) => clientErrors.push(e));
  await vi.advanceTimersByTimeAsync(0);
  t.last.open();
  t.last.push(connected());
  const subscribes = () => t.last.sent.filter((f): f is SubscribeFrame => f.type === 'subscribe');
  const answer = (sub: SubscribeFrame, extra: Partial<Extract<ServerFrame, { type: 'subscribed' }>> = {}) =>
    t.last.push({ type: 'subscribed', id: sub.id, channel: 'room', epoch: 'e1', offset: 0, recovered: true, ...extra });
  answer(subscribes()[0]!);
  expect(ch.getSnapshot().state).toBe('subscribed');
  return { t, client, ch, got, gaps, channelErrors, clientErrors, subscribes, answer };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('channel state machine', () => {
  it('resubscribes from its position when a message of a new epoch arrives mid-stream, then says gap', async () => {
    const { t, client, ch, got, gaps, subscribes, answer } = await subscribedRoom();
    t.last.push(msg(1));
    t.last.push(msg(2));
    t.last.push(msg(1, 'e2')); // the server lost the stream and started again
    expect(ch.getSnapshot().state).toBe('subscribing');
    t.last.push(msg(2, 'e2')); // more of it while the resubscribe is in flight: still one request
    expect(subscribes()).toHaveLength(2);
    expect(subscribes()[1]!.since).toEqual({ epoch: 'e1', offset: 2 });
    answer(subscribes()[1]!, { epoch: 'e2', offset: 2, recovered: false });
    t.last.push(msg(3, 'e2'));
    expect(gaps).toEqual([{ channel: 'room', reason: 'epoch_changed', from: { epoch: 'e1', offset: 2 }, to: { epoch: 'e2', offset: 2 } }]);
    expect(got).toEqual([1, 2, 3]);
    expect(ch.getSnapshot()).toMatchObject({ state: 'subscribed', recovered: false });
    expect(ch.position).toEqual({ epoch: 'e2', offset: 3 });
    client.close();
  });

  it('past the reorder buffer bound keeps exactly one resubscribe in flight and stops buffering; history fills the rest once', async () => {
    const { t, client, got, subscribes, answer } = await subscribedRoom();
    t.last.push(msg(1));
    for (let o = 3; o <= MAX_BUFFERED + 600; o++) t.last.push(msg(o)); // offset 2 never arrives live
    expect(subscribes()).toHaveLength(2); // the initial one + exactly one recovery request
    expect(subscribes()[1]!.since).toEqual({ epoch: 'e1', offset: 1 });
    answer(subscribes()[1]!, { offset: 1 });
    for (let o = 2; o <= MAX_BUFFERED + 600; o++) t.last.push(msg(o)); // the replay
    expect(got).toEqual(Array.from({ length: MAX_BUFFERED + 600 }, (_, i) => i + 1));
    expect(client.channel('room').position).toEqual({ epoch: 'e1', offset: MAX_BUFFERED + 600 });
    client.close();
  });

  it('never holds more than MAX_BUFFERED messages back, however long the hole lasts', () => {
    const sent: string[] = [];
    const host: ChannelHost = {
      clock_: systemClock,
      reorderWindow_: 1000,
      subscribeTimeout_: 10_000,
      backoff_: () => 100,
      canSend_: () => true,
      schedule_: (job) => job(),
      sendSubscribe_: (name) => (sent.push(name), `s${sent.length}`),
      sendUnsubscribe_: () => {},
      report_: () => {},
      requests_: new Requests({ clock_: systemClock, canSend_: () => true, schedule_: (job) => job(), send_: () => {} }),
    };
    const shared = new SharedChannel('room', host);
    shared.resubscribe_();
    shared.onSubscribed({ type: 'subscribed', id: 's1', channel: 'room', epoch: 'e1', offset: 0, recovered: true });
    let peak = 0;
    for (let o = 2; o <= MAX_BUFFERED * 5; o++) {
      shared.onMessage({ type: 'message', channel: 'room', epoch: 'e1', offset: o, id: `m${o}`, data: o });
      peak = Math.max(peak, shared.buffered_);
    }
    expect(peak).toBe(MAX_BUFFERED);
    expect(sent).toHaveLength(2); // one recovery subscribe, however many messages overflowed
    shared.dispose_();
    expect(shared.buffered_).toBe(0);
  });

  it('a refused re-subscribe sends unsubscribe, says failed, ignores the old stream, and recovers on resubscribe()', async () => {
    const { t, client, ch, got, channelErrors, subscribes, answer } = await subscribedRoom();
    t.last.push(msg(1));
    t.last.drop();
    await vi.advanceTimersByTimeAsync(100);
    t.last.open();
    t.last.push(connected());
    t.last.push({ type: 'error', id: subscribes()[0]!.id, code: 'forbidden', message: 'no longer allowed' });
    expect(t.last.sent.filter((f) => f.type === 'unsubscribe')).toEqual([{ type: 'unsubscribe', channel: 'room' }]);
    expect(ch.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'forbidden' }, position: { epoch: 'e1', offset: 1 } });
    expect(channelErrors.map((e) => e.code)).toEqual(['forbidden']);
    t.last.push(msg(2)); // whatever the server still had in flight
    expect(got).toEqual([1]);
    ch.resubscribe();
    expect(subscribes()).toHaveLength(2);
    expect(subscribes()[1]!.since).toEqual({ epoch: 'e1', offset: 1 });
    answer(subscribes()[1]!, { offset: 1 });
    t.last.push(msg(2));
    expect(got).toEqual([1, 2]);
    expect(ch.getSnapshot().state).toBe('subscribed');
    client.close();
  });

  it('a new acquisition of a failed channel retries it', async () => {
    const { t, client, ch, subscribes } = await subscribedRoom();
    t.last.push({ type: 'unsubscribed', channel: 'room', code: 'forbidden', message: 'revoked' });
    expect(ch.getSnapshot().state).toBe('failed');
    const again = client.channel('room');
    expect(again.getSnapshot().state).toBe('subscribing');
    expect(subscribes()).toHaveLength(2);
    client.close();
  });

  it('a subscribe unanswered within subscribeTimeout is reported and sent again after backoff; the late answer is ignored', async () => {
    const t = fakeTransport();
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory], subscribeTimeout: 2000, backoff: () => 500 });
    const errors: TidewireError[] = [];
    client.on('error', (e) => errors.push(e));
    const ch = client.channel('room');
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    const subscribes = () => t.last.sent.filter((f): f is SubscribeFrame => f.type === 'subscribe');
    await vi.advanceTimersByTimeAsync(1999);
    expect(subscribes()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(errors.map((e) => e.code)).toEqual(['timeout']);
    expect(ch.getSnapshot().state).toBe('subscribing');
    await vi.advanceTimersByTimeAsync(499);
    expect(subscribes()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(subscribes()).toHaveLength(2);
    t.last.push({ type: 'subscribed', id: subscribes()[0]!.id, channel: 'room', epoch: 'e1', offset: 0, recovered: true });
    expect(ch.getSnapshot().state).toBe('subscribing');
    t.last.push({ type: 'subscribed', id: subscribes()[1]!.id, channel: 'room', epoch: 'e1', offset: 0, recovered: true });
    expect(ch.getSnapshot().state).toBe('subscribed');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(subscribes()).toHaveLength(2); // answered: the deadline is gone
    client.close();
  });

  it('retries a subscribe refused rate_limited after retryAfter, and one refused server_error after backoff — never parks it', async () => {
    const t = fakeTransport();
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory], backoff: () => 700 });
    const a = client.channel('a');
    const b = client.channel('b');
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    const subs = (channel: string) => t.last.sent.filter((f): f is SubscribeFrame => f.type === 'subscribe' && f.channel === channel);
    t.last.push({ type: 'error', id: subs('a')[0]!.id, code: 'rate_limited', message: 'slow down', retryAfter: 300 });
    t.last.push({ type: 'error', id: subs('b')[0]!.id, code: 'server_error', message: 'hook threw' });
    await vi.advanceTimersByTimeAsync(299);
    expect(subs('a')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(subs('a')).toHaveLength(2);
    expect(subs('b')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(400);
    expect(subs('b')).toHaveLength(2);
    for (const name of ['a', 'b']) {
      t.last.push({ type: 'subscribed', id: subs(name)[1]!.id, channel: name, epoch: 'e', offset: 0, recovered: true });
    }
    expect([a.getSnapshot().state, b.getSnapshot().state]).toEqual(['subscribed', 'subscribed']);
    client.close();
  });
});

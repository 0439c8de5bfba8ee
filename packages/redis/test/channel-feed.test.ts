import { describe, expect, it } from 'vitest';
import type { BrokerMessage } from '@tidewire/server';
import { ChannelFeed, type FeedSource, type ResumePoint } from '../src/channelFeed';
import { until } from './broker-conformance';

/** A stream in memory standing in for Redis; `down` makes every read reject like an unreachable Redis. */
function fakeStream(epoch = 'e1') {
  const state = { epoch, messages: [] as BrokerMessage[], down: false, reads: 0 };
  const source: FeedSource = {
    async range(from, to, wanted) {
      state.reads++;
      if (state.down) throw new Error('redis down');
      return state.messages.filter((m) => m.epoch === wanted && m.offset >= from && m.offset <= to);
    },
    async head() {
      if (state.down) throw new Error('redis down');
      return { epoch: state.epoch, head: state.messages.filter((m) => m.epoch === state.epoch).at(-1)?.offset ?? 0 };
    },
  };
  const append = (n: number): BrokerMessage => {
    const m = { id: `m${n}`, epoch: state.epoch, offset: n, data: n };
    state.messages.push(m);
    return m;
  };
  return { state, source, append };
}

const point = (epoch: string, head: number, extra: Partial<ResumePoint> = {}): ResumePoint => ({
  epoch,
  offset: head,
  head,
  recovered: true,
  replay: [],
  live: true,
  ...extra,
});

describe('ChannelFeed', () => {
  it('fills holes between notifications from the stream, in order, once', async () => {
    const { source, append } = fakeStream();
    const feed = new ChannelFeed(source);
    const got: number[] = [];
    await feed.register(point('e1', 0), (m) => got.push(m.offset));
    const all = Array.from({ length: 12 }, (_, i) => append(i + 1));
    // Notifications 3, 4, 8–10 were lost; 6 arrives twice.
    for (const n of [1, 2, 5, 6, 6, 7, 11, 12]) feed.notify(all[n - 1]!);
    await until(() => got.length === 12, 'all twelve');
    expect(got).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('catches up to the head after a reconnect, when no further notification would reveal the hole', async () => {
    const { source, append } = fakeStream();
    const feed = new ChannelFeed(source);
    const got: number[] = [];
    await feed.register(point('e1', 0), (m) => got.push(m.offset));
    feed.notify(append(1));
    append(2);
    append(3); // published while the pub/sub connection was down
    await until(() => got.length === 1, 'the first');
    feed.catchUp();
    await until(() => got.length === 3, 'the tail');
    expect(got).toEqual([1, 2, 3]);
  });

  it('keeps undelivered notifications while Redis is unreachable and delivers them once it is back', async () => {
    const { state, source, append } = fakeStream();
    const feed = new ChannelFeed(source);
    const got: number[] = [];
    await feed.register(point('e1', 0), (m) => got.push(m.offset));
    append(1);
    append(2);
    state.down = true;
    feed.notify(append(3)); // needs a fill of 1–2, which fails for now
    await until(() => state.reads >= 2, 'a retry');
    expect(got).toEqual([]);
    state.down = false;
    await until(() => got.length === 3, 'delivered after the outage');
    expect(got).toEqual([1, 2, 3]);
    feed.close();
  });

  it('hands a new listener what the feed delivered past its resume point, in the replay', async () => {
    const { source, append } = fakeStream();
    const feed = new ChannelFeed(source);
    const first: number[] = [];
    await feed.register(point('e1', 0), (m) => first.push(m.offset));
    for (let n = 1; n <= 5; n++) feed.notify(append(n));
    await until(() => first.length === 5, 'the feed delivered five');
    // The resume script saw head 3, but notifications 4 and 5 overtook its reply.
    const late: number[] = [];
    const registration = await feed.register(point('e1', 3), (m) => late.push(m.offset));
    feed.notify(append(6));
    await until(() => late.length === 1, 'the next live one');
    expect(registration.offset).toBe(3);
    expect(registration.replay.map((m) => m.offset)).toEqual([4, 5]);
    expect(late).toEqual([6]);
  });

  it('a new listener whose head is ahead of the feed gets only what follows its head', async () => {
    const { source, append } = fakeStream();
    const feed = new ChannelFeed(source);
    const early: number[] = [];
    await feed.register(point('e1', 0), (m) => early.push(m.offset));
    const all = [append(1), append(2), append(3)];
    const late: number[] = [];
    await feed.register(point('e1', 3), (m) => late.push(m.offset)); // before notifications 1–3 arrive
    for (const m of all) feed.notify(m);
    feed.notify(append(4));
    await until(() => early.length === 4 && late.length === 1, 'both');
    expect(late).toEqual([4]);
  });

  it('follows a new epoch when the channel metadata was lost, from its first offset', async () => {
    const { state, source, append } = fakeStream();
    const feed = new ChannelFeed(source);
    const got: string[] = [];
    await feed.register(point('e1', 0), (m) => got.push(`${m.epoch}/${m.offset}`));
    feed.notify(append(1));
    state.epoch = 'e2';
    append(1);
    feed.notify(append(2));
    await until(() => got.length === 3, 'three');
    expect(got).toEqual(['e1/1', 'e2/1', 'e2/2']);
  });

  it('a listener registering as Redis is flushed keeps its position: the loss is one epoch change, not a refused start too', async () => {
    // (The fill path of the same fault runs against a real redis-server: flush-while-filling.test.ts.)
    const { state, source, append } = fakeStream();
    const feed = new ChannelFeed(source);
    await feed.register(point('e1', 0), () => {});
    for (let n = 1; n <= 5; n++) feed.notify(append(n));
    await until(() => feed.delivered('e1', 5), 'the feed delivered five');
    // The resume script saw head 3 of e1 (4 and 5 overtook its reply); then Redis was flushed.
    state.messages = [];
    state.epoch = 'e2';
    const got: string[] = [];
    const registration = await feed.register(point('e1', 3, { live: false, offset: 2, replay: [{ id: 'm3', epoch: 'e1', offset: 3, data: 3 }] }), (m) => got.push(`${m.epoch}/${m.offset}`));
    expect(registration).toMatchObject({ epoch: 'e1', offset: 2, recovered: true });
    expect(registration.replay.map((m) => m.offset)).toEqual([3]);
    feed.notify(append(1));
    await until(() => got.length === 1, 'the new epoch');
    expect(got).toEqual(['e2/1']);
  });
});

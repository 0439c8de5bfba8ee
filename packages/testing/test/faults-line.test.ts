import type { PublishResult } from '@tidewire/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestKit, TestKitError, type TestKit } from '../src/index';
import { record, range, settlements } from './helpers';

let kit: TestKit;
afterEach(() => kit?.close());

/** Past the first reconnect backoff (full jitter below 500 ms by default). */
const BACKOFF = 1000;
/**
 * For the tests that look at the client between a drop and its reconnect: a fixed backoff. Full
 * jitter draws 0 ms about once in 500 attempts, and a zero delay needs no nudge of the kit clock
 * (manual-clock.ts), so the client would already be back when the test looks.
 */
const FIXED_BACKOFF = () => 300;

describe('faults.drop: the line fails as a network failure', () => {
  it('replays what a subscriber missed, once and in order, across repeated drops', async () => {
    kit = createTestKit();
    const bob = kit.client({ backoff: FIXED_BACKOFF });
    const stream = record(bob.channel('stream'));
    await kit.settle();
    for (let round = 0; round < 5; round++) {
      for (const i of range(10)) await kit.server.publish('stream', round * 20 + i);
      expect(kit.faults.drop(bob)).toBe(1);
      await kit.settle();
      expect(bob.getSnapshot().state).toBe('reconnecting');
      for (const i of range(10)) await kit.server.publish('stream', round * 20 + 10 + i); // while bob is away
      await kit.clock.advanceUntil(() => bob.getSnapshot().state === 'connected'); // past the backoff
    }
    expect(stream.data()).toEqual(range(100));
    expect(stream.offsets()).toEqual(range(100));
    expect(stream.gaps).toEqual([]);
    expect(bob.channel('stream').getSnapshot()).toMatchObject({ state: 'subscribed', recovered: true });
    expect(kit.server.stats().sessions).toBe(1); // every dropped session was ended on the server too
  });

  it('sends publishes queued while the line was down after the reconnect: each settles once, stored once, in order', async () => {
    kit = createTestKit();
    const alice = kit.client({ lazy: false, backoff: FIXED_BACKOFF }); // a lazy client would reconnect at once on publish()
    alice.connect();
    const watcher = record(kit.client().channel('room'));
    await kit.settle(); // the watcher is subscribed before anything is published
    await alice.publish('room', 0);
    kit.faults.drop(alice);
    await kit.settle();
    const pending = range(10).map((i) => alice.publish('room', i));
    const settled = settlements(pending);
    await kit.settle();
    expect(settled.count()).toBe(0); // queued, not failed
    await kit.clock.advance(BACKOFF);
    expect(settled.rejected).toEqual([]);
    expect(settled.resolved.map((r) => r.offset)).toEqual(range(10).map((i) => i + 1));
    expect(watcher.data()).toEqual([0, ...range(10)]);
  });

  it('stores a publish whose ack was lost with the line exactly once (the resend reuses its id)', async () => {
    kit = createTestKit();
    const alice = kit.client();
    const watcher = record(kit.client().channel('room'));
    await kit.settle(); // the watcher is subscribed before anything is published
    await alice.publish('room', 'warm-up');
    kit.faults.delay(alice, 1000);
    let result: PublishResult | undefined;
    let settledTimes = 0;
    const publish = alice.publish('room', 'once').then((r) => {
      result = r;
      settledTimes++;
    });
    await kit.clock.advance(1500); // stored on the server at +1000; its ack is still on the way (+2000)
    expect(watcher.data()).toEqual(['warm-up', 'once']);
    expect(result).toBeUndefined();
    kit.faults.drop(alice); // the ack dies with the line
    kit.faults.heal(alice);
    await kit.clock.advance(BACKOFF);
    await publish;
    expect(settledTimes).toBe(1);
    expect(result).toMatchObject({ offset: 2 }); // the first store's position, from the dedupe window
    expect(watcher.data()).toEqual(['warm-up', 'once']);
  });
});

describe('faults.blackhole: frames vanish both ways, nothing closes', () => {
  it('is noticed only by the heartbeat deadline; after heal the client recovers everything once', async () => {
    kit = createTestKit(); // heartbeat 25 s: the client gives up after 25 + 12.5 s of silence
    const bob = kit.client();
    const stream = record(bob.channel('stream'));
    await kit.settle();
    await kit.server.publish('stream', 1);
    await kit.settle();
    kit.faults.blackhole(bob);
    for (const i of [2, 3, 4]) await kit.server.publish('stream', i);
    await kit.clock.advance(30_000);
    expect(bob.getSnapshot().state).toBe('connected'); // no close, no error: just silence
    expect(stream.data()).toEqual([1]);
    await kit.clock.advance(10_000);
    expect(bob.getSnapshot().state).not.toBe('connected');
    await kit.clock.advance(30_000); // attempts meanwhile time out: the black hole also eats new lines
    expect(bob.getSnapshot().state).not.toBe('connected');
    kit.faults.heal(bob);
    await kit.clock.advanceUntil(() => bob.getSnapshot().state === 'connected'); // the next attempt gets through
    expect(stream.data()).toEqual([1, 2, 3, 4]);
    expect(stream.gaps).toEqual([]);
  });

  it('ends the abandoned session on the server by its own heartbeat deadline', async () => {
    kit = createTestKit({ heartbeat: 10_000 });
    const bob = kit.client();
    bob.connect();
    await kit.settle();
    kit.faults.blackhole(bob);
    await kit.clock.advance(2 * 10_000 + 1000);
    expect(kit.server.stats().sessions).toBe(0);
  });

  it('a publish swallowed by the black hole is sent again after the reconnect and stored once', async () => {
    kit = createTestKit({ heartbeat: 10_000 });
    const alice = kit.client({ publishTimeout: 60_000 }); // outlasts the outage: the publish is resent, not timed out
    const watcher = record(kit.client().channel('room'));
    await kit.settle(); // the watcher is subscribed before anything is published
    await alice.publish('room', 'before');
    kit.faults.blackhole(alice);
    const settled = settlements([alice.publish('room', 'lost?')]);
    await kit.clock.advance(16_000); // alice's deadline: 10 + 5 s
    kit.faults.heal(alice);
    await kit.clock.advance(10_000);
    expect(settled.rejected).toEqual([]);
    expect(settled.resolved).toEqual([expect.objectContaining({ offset: 2 })]);
    expect(watcher.data()).toEqual(['before', 'lost?']);
  });
});

describe('faults.delay and faults.reorder', () => {
  it('delays frames both ways on the kit clock, keeping their order', async () => {
    kit = createTestKit();
    const alice = kit.client();
    alice.connect();
    await kit.settle();
    const watcher = record(kit.client().channel('room'));
    await kit.settle();
    kit.faults.delay(alice, 3000);
    const settled = settlements(range(5).map((i) => alice.publish('room', i)));
    await kit.clock.advance(2999);
    expect(watcher.data()).toEqual([]); // not even at the server yet
    await kit.clock.advance(1);
    expect(watcher.data()).toEqual(range(5));
    expect(settled.count()).toBe(0); // acks are on their way back
    await kit.clock.advance(3000);
    expect(settled.resolved.map((r) => r.offset)).toEqual(range(5));
  });

  it('a publish whose round trip outlasts publishTimeout rejects once with `timeout`', async () => {
    kit = createTestKit();
    const alice = kit.client({ publishTimeout: 5000 });
    alice.connect();
    await kit.settle();
    kit.faults.delay(alice, 3000);
    const settled = settlements([alice.publish('room', 'slow')]);
    await kit.clock.advance(20_000);
    expect(settled.resolved).toEqual([]);
    expect(settled.rejected).toEqual([expect.objectContaining({ code: 'timeout' })]);
  });

  it('reversed message frames still reach the app once and in order', async () => {
    kit = createTestKit();
    const bob = kit.client();
    const stream = record(bob.channel('stream'));
    await kit.settle();
    for (const batch of [5, 2, 8]) {
      kit.faults.reorder(bob, batch);
      const base = stream.messages.length;
      for (const i of range(batch)) await kit.server.publish('stream', base + i);
      await kit.clock.advance(0);
    }
    expect(stream.data()).toEqual(range(15));
    expect(stream.gaps).toEqual([]);
    expect(bob.getSnapshot().state).toBe('connected');
  });

  it('reordering across a reconnect (the handshake frames reversed too) still ends with every message once, in order', async () => {
    kit = createTestKit();
    const bob = kit.client();
    const stream = record(bob.channel('stream'));
    await kit.settle();
    await kit.server.publish('stream', 1);
    await kit.settle();
    kit.faults.drop(bob);
    for (const i of [2, 3, 4]) await kit.server.publish('stream', i);
    kit.faults.reorder(bob, 3); // connected, subscribed and the first replayed message arrive last-first
    await kit.clock.advanceUntil(() => bob.getSnapshot().state === 'connected' && stream.messages.length === 4);
    await kit.server.publish('stream', 5);
    await kit.settle();
    expect(stream.data()).toEqual(range(5));
    expect(stream.gaps).toEqual([]);
  });

  it('heal releases a partly held batch in the order it was sent', async () => {
    kit = createTestKit();
    const bob = kit.client();
    const stream = record(bob.channel('stream'));
    await kit.settle();
    kit.faults.reorder(bob, 10);
    for (const i of range(3)) await kit.server.publish('stream', i);
    await kit.settle();
    expect(stream.data()).toEqual([]);
    kit.faults.heal(bob);
    await kit.settle();
    expect(stream.data()).toEqual(range(3));
  });

  it('rejects arguments it cannot use, and clients of another kit', async () => {
    kit = createTestKit();
    const other = createTestKit();
    const stranger = other.client();
    expect(() => kit.faults.delay(undefined, -1)).toThrow(TestKitError);
    expect(() => kit.faults.reorder(undefined, 1)).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    expect(() => kit.faults.drop(stranger)).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    await other.close();
  });
});

import { describe, expect, it } from 'vitest';
import type { Broker, BrokerMessage, BrokerSubscription, PresenceEvent } from '@tidewire/server';

/** Makes a fresh, empty broker (its own namespace) with the given history size. */
export type BrokerFactory = (options: { historySize?: number }) => Promise<Broker>;

let unique = 0;
/** A channel name no other case has used. */
const fresh = (name: string): string => `${name}-${process.pid}-${++unique}`;

/** Resolve when `predicate` holds, polling; fail with `what` after `timeout` ms. */
export async function until(predicate: () => boolean, what: string, timeout = 15_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A subscription together with everything its listener received. */
async function listen(broker: Broker, channel: string, since?: { epoch: string; offset: number }) {
  const live: BrokerMessage[] = [];
  const sub: BrokerSubscription = await broker.subscribe(channel, since, (m) => live.push(m));
  return { sub, live, all: () => [...sub.replay, ...live] };
}

const offsets = (messages: readonly BrokerMessage[]): number[] => messages.map((m) => m.offset);
const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/**
 * The Broker contract (packages/server/src/broker/broker.ts), as cases any
 * broker must pass. Run for MemoryBroker and the Redis broker alike.
 */
export function brokerConformance(name: string, makeBroker: BrokerFactory): void {
  describe(`Broker contract: ${name}`, () => {
    it('assigns consecutive offsets from 1 in one epoch, per channel', async () => {
      await using broker = disposable(await makeBroker({}));
      const [a, b] = [fresh('a'), fresh('b')];
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await broker.publish(a, { id: `m${i}`, data: i }));
      const other = await broker.publish(b, { id: 'm0', data: 'x' });
      expect(results.map((r) => r.offset)).toEqual([1, 2, 3, 4, 5]);
      expect(new Set(results.map((r) => r.epoch)).size).toBe(1);
      expect(results.every((r) => !r.duplicate)).toBe(true);
      expect(other).toMatchObject({ offset: 1, duplicate: false });
    });

    it('stores and delivers a retried publish id once, answering its original position', async () => {
      await using broker = disposable(await makeBroker({}));
      const channel = fresh('dedupe');
      const watcher = await listen(broker, channel);
      const first = await broker.publish(channel, { id: 'same', data: 1 });
      await broker.publish(channel, { id: 'other', data: 2 });
      const again = await broker.publish(channel, { id: 'same', data: 'changed' });
      expect(again).toEqual({ epoch: first.epoch, offset: first.offset, duplicate: true });
      await until(() => watcher.live.length >= 2, 'two deliveries');
      const late = await listen(broker, channel, { epoch: first.epoch, offset: 0 });
      expect(late.sub.replay.map((m) => m.data)).toEqual([1, 2]);
      await new Promise((r) => setTimeout(r, 50));
      expect(watcher.live.map((m) => m.data)).toEqual([1, 2]);
    });

    it('does not deduplicate ids marked fresh', async () => {
      await using broker = disposable(await makeBroker({}));
      const channel = fresh('fresh');
      const a = await broker.publish(channel, { id: 'x', data: 1, fresh: true });
      const b = await broker.publish(channel, { id: 'x', data: 2, fresh: true });
      expect([a.offset, b.offset, a.duplicate, b.duplicate]).toEqual([1, 2, false, false]);
    });

    it('without a position: starts at the head, recovered, and receives what follows in order', async () => {
      await using broker = disposable(await makeBroker({}));
      const channel = fresh('live');
      await broker.publish(channel, { id: 'before', data: 0 });
      const s = await listen(broker, channel);
      expect(s.sub).toMatchObject({ offset: 1, recovered: true, replay: [] });
      for (let i = 1; i <= 20; i++) await broker.publish(channel, { id: `m${i}`, data: i });
      await until(() => s.live.length === 20, '20 live messages');
      expect(offsets(s.live)).toEqual(range(2, 21));
      expect(s.live[0]).toMatchObject({ id: 'm1', data: 1, epoch: s.sub.epoch });
    });

    it('resumes from a position in the epoch with everything after it in the replay', async () => {
      await using broker = disposable(await makeBroker({}));
      const channel = fresh('resume');
      let epoch = '';
      for (let i = 1; i <= 10; i++) epoch = (await broker.publish(channel, { id: `m${i}`, data: { n: i } })).epoch;
      const s = await listen(broker, channel, { epoch, offset: 4 });
      expect(s.sub).toMatchObject({ epoch, offset: 4, recovered: true });
      expect(offsets(s.sub.replay)).toEqual(range(5, 10));
      expect(s.sub.replay[0]).toMatchObject({ id: 'm5', data: { n: 5 }, epoch });
      await broker.publish(channel, { id: 'm11', data: { n: 11 } });
      await until(() => s.live.length === 1, 'the next live message');
      expect(offsets(s.all())).toEqual(range(5, 11));
      const atHead = await listen(broker, channel, { epoch, offset: 11 });
      expect(atHead.sub).toMatchObject({ offset: 11, recovered: true, replay: [] });
    });

    it('says not recovered for another epoch, a position past the head, or history that no longer reaches back', async () => {
      await using broker = disposable(await makeBroker({ historySize: 5 }));
      const channel = fresh('lost');
      let epoch = '';
      for (let i = 1; i <= 12; i++) epoch = (await broker.publish(channel, { id: `m${i}`, data: i })).epoch;
      const otherEpoch = await listen(broker, channel, { epoch: 'not-this-one', offset: 3 });
      // '' is a position's epoch like any other, not "no position" (that would resume live: a silent hole).
      const emptyEpoch = await listen(broker, channel, { epoch: '', offset: 12 });
      expect(emptyEpoch.sub).toMatchObject({ epoch, offset: 12, recovered: false, replay: [] });
      const pastHead = await listen(broker, channel, { epoch, offset: 40 });
      const tooOld = await listen(broker, channel, { epoch, offset: 3 });
      const justInside = await listen(broker, channel, { epoch, offset: 7 });
      for (const s of [otherEpoch, pastHead, tooOld]) expect(s.sub).toMatchObject({ epoch, offset: 12, recovered: false, replay: [] });
      expect(justInside.sub).toMatchObject({ offset: 7, recovered: true });
      expect(offsets(justInside.sub.replay)).toEqual(range(8, 12));
    });

    it('a history page of a never-used channel has a position that resumes with everything published after it', async () => {
      await using broker = disposable(await makeBroker({ historySize: 100 }));
      const channel = fresh('first-read');
      const page = await broker.history!(channel, { limit: 10, direction: 'backward' });
      expect(page.epoch).not.toBe('');
      expect(page).toMatchObject({ head: 0, messages: [], more: false });
      await broker.publish(channel, { id: 'm1', data: 1 });
      await broker.publish(channel, { id: 'm2', data: 2 });
      const s = await listen(broker, channel, { epoch: page.epoch, offset: page.head });
      expect(s.sub).toMatchObject({ epoch: page.epoch, offset: 0, recovered: true });
      expect(offsets(s.sub.replay)).toEqual([1, 2]);
    });

    it('subscribing while publishes race: every message after the position exactly once, in replay or live', async () => {
      await using broker = disposable(await makeBroker({ historySize: 10_000 }));
      const channel = fresh('race');
      const total = 300;
      const first = await broker.publish(channel, { id: 'm1', data: 1 });
      const subscribers: Promise<Awaited<ReturnType<typeof listen>>>[] = [];
      const publishing = (async () => {
        for (let i = 2; i <= total; i++) {
          const pending = broker.publish(channel, { id: `m${i}`, data: i });
          if (i % 25 === 0) {
            subscribers.push(listen(broker, channel)); // live start
            subscribers.push(listen(broker, channel, { epoch: first.epoch, offset: i - 20 })); // resume
          }
          if (i % 3 === 0) await pending; // a mix of pipelined and awaited publishes
        }
      })();
      await publishing;
      const all = await Promise.all(subscribers);
      await until(() => all.every((s) => (s.all().at(-1)?.offset ?? s.sub.offset) === total), 'every subscriber reached the head');
      await new Promise((r) => setTimeout(r, 50));
      for (const s of all) {
        expect(s.sub.recovered).toBe(true);
        expect(offsets(s.all())).toEqual(range(s.sub.offset + 1, total));
      }
    });

    it('unsubscribe stops delivery to that listener only, and is idempotent', async () => {
      await using broker = disposable(await makeBroker({}));
      const channel = fresh('unsub');
      const staying = await listen(broker, channel);
      const leaving = await listen(broker, channel);
      await broker.publish(channel, { id: 'a', data: 'a' });
      await until(() => leaving.live.length === 1 && staying.live.length === 1, 'both got a');
      leaving.sub.unsubscribe();
      leaving.sub.unsubscribe();
      await broker.publish(channel, { id: 'b', data: 'b' });
      await until(() => staying.live.length === 2, 'the staying one got b');
      await new Promise((r) => setTimeout(r, 50));
      expect(leaving.live.map((m) => m.data)).toEqual(['a']);
    });

    it('keeps delivering to others when a listener throws', async () => {
      await using broker = disposable(await makeBroker({}));
      const channel = fresh('throws');
      await broker.subscribe(channel, undefined, () => {
        throw new Error('broken subscriber');
      });
      const healthy = await listen(broker, channel);
      for (let i = 1; i <= 3; i++) await broker.publish(channel, { id: `m${i}`, data: i });
      await until(() => healthy.live.length === 3, 'the healthy listener got all three');
      expect(offsets(healthy.live)).toEqual([1, 2, 3]);
    });

    it('delivers in offset order to every listener when a listener publishes into the same channel', async () => {
      await using broker = disposable(await makeBroker({}));
      const channel = fresh('reentrant');
      // A bot, subscribed first, that answers each ping in the channel it listens to, from inside its listener.
      const bot = await listen(broker, channel);
      await broker.subscribe(channel, undefined, (m) => {
        if (m.data === 'ping') void broker.publish(channel, { id: `pong-${m.offset}`, data: 'pong' });
      });
      const after = await listen(broker, channel);
      for (let i = 1; i <= 3; i++) await broker.publish(channel, { id: `ping-${i}`, data: 'ping' });
      await until(() => after.live.length === 6 && bot.live.length === 6, 'three pings and three pongs');
      expect(offsets(after.live)).toEqual(range(1, 6));
      expect(offsets(bot.live)).toEqual(range(1, 6));
      // Where a pong lands among the pings is the broker's timing; that everyone sees one order is not.
      expect(after.live.map((m) => m.id)).toEqual(bot.live.map((m) => m.id));
      expect(after.live.filter((m) => m.data === 'pong')).toHaveLength(3);
    });

    it('presence: a watch gets every member at once, then every later change in order — none from before', async () => {
      await using broker = disposable(await makeBroker({}));
      const { enterPresence, leavePresence, watchPresence } = presenceOf(broker);
      const room = fresh('presence');
      await enterPresence(room, { clientId: 'a', user: 'alice' });
      const events: PresenceEvent[] = [];
      const watch = await watchPresence(room, (e) => events.push(e));
      expect(watch.members).toEqual([{ clientId: 'a', user: 'alice' }]);
      await enterPresence(room, { clientId: 'b', user: 'bob', info: { tab: 1 } });
      await enterPresence(room, { clientId: 'b', user: 'bob', info: { tab: 2 } }); // re-enter: replaced, announced again
      await enterPresence(room, { clientId: 'b', user: 'bob', info: { tab: 2 } }); // the same again: nothing changed, nothing announced
      await leavePresence(room, 'a');
      await leavePresence(room, 'nobody'); // ignored
      await until(() => events.length >= 3, 'three changes');
      expect(events.map((e) => `${e.action} ${e.member.clientId}`)).toEqual(['join b', 'join b', 'leave a']);
      expect(events[2]!.member).toEqual({ clientId: 'a', user: 'alice' }); // a leave carries the member as it was
      expect((await watchPresence(room, () => {})).members).toEqual([{ clientId: 'b', user: 'bob', info: { tab: 2 } }]);
      watch.unsubscribe();
      watch.unsubscribe();
      const later: PresenceEvent[] = [];
      await watchPresence(room, (e) => later.push(e));
      await enterPresence(room, { clientId: 'c', user: 'carol' });
      await until(() => later.length === 1, 'a watcher still listening got c');
      expect(events).toHaveLength(3); // stopped
    });

    it('presence: channels are separate, and one throwing watcher does not stop the others', async () => {
      await using broker = disposable(await makeBroker({}));
      const { enterPresence, watchPresence } = presenceOf(broker);
      const [room, other] = [fresh('presence-a'), fresh('presence-b')];
      const seen: string[] = [];
      await watchPresence(room, () => {
        throw new Error('broken watcher');
      });
      await watchPresence(room, (e) => seen.push(e.member.clientId));
      await enterPresence(other, { clientId: 'elsewhere', user: null });
      await enterPresence(room, { clientId: 'a', user: null });
      await until(() => seen.length === 1, 'the healthy watcher got a');
      expect(seen).toEqual(['a']);
      expect((await watchPresence(other, () => {})).members).toEqual([{ clientId: 'elsewhere', user: null }]);
    });
  });
}

/** The optional presence methods, bound; fails the case if the broker has none. */
function presenceOf(broker: Broker) {
  const { enterPresence, leavePresence, watchPresence } = broker;
  if (!enterPresence || !leavePresence || !watchPresence) throw new Error('this broker has no presence');
  return { enterPresence: enterPresence.bind(broker), leavePresence: leavePresence.bind(broker), watchPresence: watchPresence.bind(broker) };
}

/** `await using` for a broker: closed at the end of the case. */
function disposable<T extends Broker>(broker: T): T & AsyncDisposable {
  return Object.assign(broker, { [Symbol.asyncDispose]: () => broker.close() });
}

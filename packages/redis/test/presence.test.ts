import { describe, expect, it } from 'vitest';
import { createClient } from '@redis/client';
import { createRedisBroker } from '../src/index';
import { until } from './broker-conformance';
import { member, watcher } from './presence-helpers';
import { useRedisNodes } from './redis-nodes';
import { startRedis } from './redis-server';

/**
 * Presence in Redis across processes: each broker stands for one server process. The contract
 * itself (snapshot then changes, replace on re-enter, unknown leaves ignored) runs for every broker
 * in conformance.test.ts; this file covers what only several processes on Redis can show.
 */
const nodes = useRedisNodes();
const node = nodes.node.bind(nodes);
let namespace = 0;

describe('presence on Redis across processes', () => {
  it('a member entered on node A is seen by a watcher on node B, and so is its leave', async () => {
    const prefix = `p${++namespace}`;
    const [a, b] = [await node(prefix), await node(prefix)];
    const onB = await watcher(b, 'room');
    await a.enterPresence('room', member('alice', { tab: 1 }));
    await until(() => onB.ids().join() === 'alice', 'B sees alice');
    expect(onB.view.get('alice')).toEqual(member('alice', { tab: 1 }));
    const late = await watcher(b, 'room'); // a second watcher on B: the snapshot, from B's one subscription
    expect(late.watch.members).toEqual([member('alice', { tab: 1 })]);
    await a.leavePresence('room', 'alice');
    await until(() => onB.ids().length === 0 && late.ids().length === 0, 'both see alice leave');
    expect(onB.events.map((e) => `${e.action} ${e.member.clientId}`)).toEqual(['join alice', 'leave alice']);
  });

  it("a node that stops refreshing (killed) loses its members after the TTL, and the survivors announce the leave", async () => {
    const prefix = `p${++namespace}`;
    const timing = { presence: { ttl: 600, refresh: 150 } };
    const doomed = await node(prefix, timing);
    const survivor = await node(prefix, timing);
    const onSurvivor = await watcher(survivor, 'room');
    await doomed.enterPresence('room', member('ghost'));
    await survivor.enterPresence('room', member('alive'));
    await until(() => onSurvivor.ids().join() === 'alive,ghost', 'both present');
    await doomed.close(); // stops refreshing and leaves nothing: what SIGKILL leaves behind
    await until(() => onSurvivor.ids().join() === 'alive', 'the dead node\'s member left', 15_000);
    expect(onSurvivor.events.at(-1)).toEqual({ action: 'leave', member: member('ghost') });
    // The survivor's own member, refreshed all along, is still there well past one TTL.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await survivor.watchPresence('room', () => {})).members).toEqual([member('alive')]);
  });

  it('a watcher that missed a change (lost notification) re-reads and reports the difference', async () => {
    const prefix = `p${++namespace}`;
    // A classic-pub/sub node's notifications never reach a sharded subscriber: a lost change.
    const sharded = await node(prefix, { pubsub: 'sharded', presence: { ttl: 3000, refresh: 200 } });
    const silent = await node(prefix, { pubsub: 'classic' });
    const seen = await watcher(sharded, 'room');
    await silent.enterPresence('room', member('quiet'));
    // No further change comes: the periodic check notices the version moved and re-reads.
    await until(() => seen.ids().join() === 'quiet', 'the missed join, found by the check');
    await silent.enterPresence('room', member('second'));
    await sharded.enterPresence('room', member('loud')); // the next version after a hole: re-read at once
    await until(() => seen.ids().join() === 'loud,quiet,second', 'all three');
    expect(seen.events.filter((e) => e.action === 'join').map((e) => e.member.clientId).sort()).toEqual(['loud', 'quiet', 'second']);
  });

  it('one pub/sub subscription per watched channel per process, reference-counted', async () => {
    const prefix = `p${++namespace}`;
    const broker = await node(prefix);
    const admin = createClient({ url: nodes.redis().url });
    admin.on('error', () => {});
    await admin.connect();
    const subscribers = async () =>
      ((await admin.sendCommand(['PUBSUB', 'SHARDNUMSUB', `${prefix}:{room}:presence:notify`])) as [string, number])[1];
    try {
      const first = await broker.watchPresence('room', () => {});
      const second = await broker.watchPresence('room', () => {});
      expect(await subscribers()).toBe(1);
      first.unsubscribe();
      expect(await subscribers()).toBe(1);
      second.unsubscribe();
      const start = Date.now();
      while ((await subscribers()) !== 0 && Date.now() - start < 10_000) await new Promise((r) => setTimeout(r, 20));
      expect(await subscribers()).toBe(0);
    } finally {
      await admin.close();
    }
  });

  it('many changes from two nodes while watchers start: every watcher ends with what Redis holds', async () => {
    const prefix = `p${++namespace}`;
    const [a, b] = [await node(prefix), await node(prefix)];
    const watchers: Promise<Awaited<ReturnType<typeof watcher>>>[] = [];
    const changes: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      const [owner, other] = i % 2 ? [a, b] : [b, a];
      changes.push(owner.enterPresence('busy', member(`m${i}`, { round: 1 })));
      if (i % 10 === 0) watchers.push(watcher(other, 'busy'));
      if (i % 3 === 0) changes.push(owner.enterPresence('busy', member(`m${i}`, { round: 2 })));
      if (i % 4 === 0 && i > 0) {
        await changes.at(-1);
        changes.push(owner.leavePresence('busy', `m${i - 2}`));
      }
    }
    await Promise.all(changes);
    const all = await Promise.all(watchers);
    const truth = await watcher(a, 'busy');
    await until(() => all.every((w) => w.ids().join() === truth.ids().join()), 'every watcher agrees with Redis');
    for (const w of all) expect(Object.fromEntries(w.view)).toEqual(Object.fromEntries(truth.view));
  });
});

describe('presence when Redis fails', () => {
  it('rejects typed while Redis is down, and the owning node re-enters its members once Redis is back', async () => {
    const own = await startRedis();
    try {
      const timing = { presence: { ttl: 2000, refresh: 200 }, commandTimeout: 1000, retryAfter: 700 };
      const owner = await node('fail', timing, own.url);
      const other = await node('fail', timing, own.url);
      await owner.enterPresence('room', member('alice'));
      const seen = await watcher(other, 'room');
      expect(seen.ids()).toEqual(['alice']);
      await own.stop({ kill: true });
      await expect(owner.enterPresence('room', member('bob'))).rejects.toMatchObject({ code: 'broker_unavailable', retryAfter: 700 });
      await expect(other.watchPresence('elsewhere', () => {})).rejects.toMatchObject({ code: 'broker_unavailable' });
      await own.start(); // empty: persistence is off
      // The owner's refresh finds alice gone and enters her again; the watcher re-reads.
      await until(() => seen.ids().join() === 'alice', 'alice present again', 15_000);
      const fresh = await other.watchPresence('room', () => {});
      expect(fresh.members).toEqual([member('alice')]);
    } finally {
      await own.stop({ kill: true });
    }
  });

  it('refuses presence.refresh at or above presence.ttl', () => {
    expect(() => createRedisBroker({ url: nodes.redis().url, presence: { ttl: 1000, refresh: 1000 } })).toThrow(expect.objectContaining({ code: 'invalid_options' }));
  });
});

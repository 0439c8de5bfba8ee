/**
 * Redis Cluster: moving a hash slot to another master (routine resharding / scaling out,
 * `redis-cli --cluster reshard`) while a node is subscribed. Redis 7 drops every sharded
 * subscription of a slot that leaves a master, and node-redis does not reliably subscribe it again.
 * The broker must go on delivering — channel messages, presence changes, relayed requests to its
 * inbox — not go silent (packages/redis/src/slotWatch.ts).
 */
import { spawn } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisBroker } from '../../redis/src/index';
import { keySlot } from '../../redis/src/slotWatch';
import { appClusterClient } from '../../redis/test/cluster-client';
import { namesOnEveryMaster, startRedisCluster, type RedisCluster } from './helpers/redis-cluster';

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

function cli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('redis-cli', ['-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => void (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => void (out += c.toString()));
    p.once('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(out))));
  });
}

async function until(check: () => boolean, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/** Move one slot from the master on `from` to the master on `to`, keys included (what `--cluster reshard` does per slot). */
async function moveSlot(slot: number, from: number, to: number, ports: readonly number[]): Promise<void> {
  const fromId = await cli(from, 'CLUSTER', 'MYID');
  const toId = await cli(to, 'CLUSTER', 'MYID');
  await cli(to, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
  await cli(from, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
  for (;;) {
    const keys = (await cli(from, 'CLUSTER', 'GETKEYSINSLOT', String(slot), '100')).split('\n').filter(Boolean);
    if (keys.length === 0) break;
    await cli(from, 'MIGRATE', '127.0.0.1', String(to), '', '0', '5000', 'KEYS', ...keys);
  }
  for (const port of [to, from, ...ports.filter((p) => p !== to && p !== from)]) await cli(port, "CLUSTER", "SETSLOT", String(slot), "NODE", toId);
}

/** The slot of `name` and the master (index in cluster.ports) that owns it now. */
async function slotOf(name: string): Promise<number> {
  return Number(await cli(cluster.ports[0]!, 'CLUSTER', 'KEYSLOT', name));
}

/**
 * Two nodes. Presence refreshes far apart (20 s): a refresh re-reads a view whose version moved, so
 * it would hide, within a test's wait, a watcher that no longer gets changes live.
 */
const brokers = () => {
  const options = { clusterUrls: cluster.urls, prefix: 'rs', presence: { ttl: 60_000, refresh: 20_000 }, onError: () => {} };
  return [createRedisBroker(options), createRedisBroker(options)] as const;
};

it('a subscriber keeps receiving a channel whose slot moved to another master', async () => {
  const name = (await namesOnEveryMaster(cluster, 'mv', 1))[0]![0]!;
  const [subscriberNode, publisherNode] = brokers();
  await Promise.all([subscriberNode.ready(), publisherNode.ready()]);
  try {
    const got: number[] = [];
    const sub = await subscriberNode.subscribe(name, undefined, (m) => got.push(m.data as number));
    await publisherNode.publish(name, { id: 'p1', data: 1 });
    expect(await until(() => got.length === 1)).toBe(true);

    await moveSlot(await slotOf(name), cluster.ports[0]!, cluster.ports[1]!, cluster.ports);

    for (let i = 2; i <= 5; i++) await publisherNode.publish(name, { id: `p${i}`, data: i });
    // 1..5, once each and in order: resubscribed on the new owner, the rest caught up from the stream.
    await until(() => got.length >= 5);
    expect(got).toEqual([1, 2, 3, 4, 5]);
    // And it is subscribed again for good: a publish after the catch-up arrives live too.
    await publisherNode.publish(name, { id: 'p6', data: 6 });
    await until(() => got.length >= 6);
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    sub.unsubscribe();
  } finally {
    await Promise.all([subscriberNode.close(), publisherNode.close()]);
  }
});

it("a presence watcher keeps seeing a channel's changes after its slot moved", async () => {
  const room = (await namesOnEveryMaster(cluster, 'room', 1))[0]![0]!;
  const [watcherNode, memberNode] = brokers();
  await Promise.all([watcherNode.ready(), memberNode.ready()]);
  try {
    const events: string[] = [];
    const watch = await watcherNode.watchPresence(room, (e) => events.push(`${e.action} ${e.member.clientId}`));
    await memberNode.enterPresence(room, { clientId: 'alice', user: 1 });
    expect(await until(() => events.length === 1)).toBe(true);

    await moveSlot(await slotOf(room), cluster.ports[0]!, cluster.ports[1]!, cluster.ports);

    await memberNode.enterPresence(room, { clientId: 'bob', user: 2 });
    await memberNode.leavePresence(room, 'alice');
    await until(() => events.length >= 3);
    // Live, or from the re-read after the resubscription (which tells leaves before joins): each once.
    expect([...events].sort()).toEqual(['join alice', 'join bob', 'leave alice']);
    // And live again for good.
    await memberNode.enterPresence(room, { clientId: 'carol', user: 3 });
    await until(() => events.length >= 4);
    expect(events.at(-1)).toBe('join carol');
    watch.unsubscribe();
  } finally {
    await Promise.all([watcherNode.close(), memberNode.close()]);
  }
});

it("a node's relay inbox keeps receiving after its slot moved", async () => {
  // The inbox is `rs:{node:<id>}:inbox`: its slot is that of `node:<id>`.
  const nodeId = (await namesOnEveryMaster(cluster, 'node:relay', 1))[0]![0]!.slice('node:'.length);
  const [ownerNode, otherNode] = brokers();
  await Promise.all([ownerNode.ready(), otherNode.ready()]);
  const owner = ownerNode.sessionRelay({ nodeId });
  const other = otherNode.sessionRelay();
  owner.serve(async (request) => ({ status: 200, headers: {}, body: `owner got ${request.url}` }));
  try {
    // Answered, or undefined when nobody listens on the inbox (then asked again, for up to ~10 s).
    const ask = async (url: string) => {
      for (let i = 0; i < 50; i++) {
        const answer = await other.forward(nodeId, { method: 'GET', url, headers: {}, body: '' }, 3000);
        if (answer) return answer.body;
        await new Promise((r) => setTimeout(r, 200));
      }
      return undefined;
    };
    expect(await ask('/before')).toBe('owner got /before');

    await moveSlot(await slotOf(`node:${nodeId}`), cluster.ports[0]!, cluster.ports[1]!, cluster.ports);

    expect(await ask('/after')).toBe('owner got /after');
  } finally {
    await Promise.all([ownerNode.close(), otherNode.close()]);
  }
});

it('computes hash slots as Redis does', async () => {
  for (const name of ['rs:{mv-0}:notify', 'plain', '{}x', 'a{}{b}', '{node:abc}:inbox', 'ü{ñ}', 'x{y']) {
    expect(keySlot(name)).toBe(Number(await cli(cluster.ports[0]!, 'CLUSTER', 'KEYSLOT', name)));
  }
});

it("node-redis's report of a lost shard subscription (sharded-shannel-moved-error) makes the broker subscribe again and catch up", async () => {
  const name = (await namesOnEveryMaster(cluster, 'lost', 1))[1]![0]!;
  const client = appClusterClient(cluster.urls);
  const subscriberNode = createRedisBroker({ client, prefix: 'rs', onError: () => {} });
  const [publisherNode] = brokers();
  await Promise.all([subscriberNode.ready(), publisherNode.ready()]);
  try {
    const got: number[] = [];
    const sub = await subscriberNode.subscribe(name, undefined, (m) => got.push(m.data as number));
    await publisherNode.publish(name, { id: 'l1', data: 1 });
    expect(await until(() => got.length === 1)).toBe(true);
    // What node-redis leaves behind when its own resubscription after a move failed: the
    // subscription gone in Redis and from its books, a message published meanwhile, then the event.
    const notify = `rs:{${name}}:notify`;
    await client.sUnsubscribe(notify, undefined as never);
    await publisherNode.publish(name, { id: 'l2', data: 2 });
    (client as unknown as EventEmitter).emit('sharded-shannel-moved-error', new Error('could not resubscribe'), notify, new Map());
    await until(() => got.length >= 2);
    expect(got).toEqual([1, 2]); // caught up from the stream
    await publisherNode.publish(name, { id: 'l3', data: 3 });
    await until(() => got.length >= 3);
    expect(got).toEqual([1, 2, 3]); // live again
    sub.unsubscribe();
  } finally {
    await Promise.all([subscriberNode.close(), publisherNode.close()]);
    await client.close().catch(() => {});
  }
});

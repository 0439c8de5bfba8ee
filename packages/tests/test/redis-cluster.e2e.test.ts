import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client, type ClientOptions, type GapInfo, type PublishResult, type TransportFactory } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { freePort, startRedis, storedChannel, type RedisServer } from '../../redis/test/redis-server';
import { buildNodeScript, startNode, type ClusterNode, type NodeScript } from './helpers/cluster';
import { startRoundRobinProxy, type RoundRobinProxy } from './helpers/cluster-proxy';
import { injectedWebSocket } from './helpers/env';
import { until } from './helpers/servers';

/**
 * Several server processes on one Redis: each node is a child process
 * (`createServer({ broker: createRedisBroker(...) })` on its own port), the
 * clients are WebSocket clients in this process (and, where said, SSE and long-poll clients
 * through a proxy that sends every HTTP request to the next node in turn: no sticky sessions).
 */
let redis: RedisServer;
let script: NodeScript;
const nodes: ClusterNode[] = [];
const clients: Client[] = [];
const proxies: RoundRobinProxy[] = [];

beforeAll(async () => {
  [redis, script] = await Promise.all([startRedis(), buildNodeScript()]);
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(proxies.map((p) => p.close()));
  await Promise.all(nodes.map((node) => node.kill()));
  await redis?.stop({ kill: true });
  await script?.[Symbol.asyncDispose]();
}, 30_000);

let clusters = 0;
/** `count` nodes sharing a fresh key prefix (an empty cluster). */
async function cluster(count: number, env?: Record<string, string>): Promise<{ nodes: ClusterNode[]; prefix: string }> {
  const prefix = `cluster${++clusters}`;
  const started = await Promise.all(
    Array.from({ length: count }, async (_, i) =>
      startNode(script, { name: `${prefix}-${'abc'[i]}`, port: await freePort(), redisUrl: redis.url, prefix, env }),
    ),
  );
  nodes.push(...started);
  return { nodes: started, prefix };
}

function client(node: ClusterNode, options: Partial<ClientOptions> = {}): Client {
  const c = createClient({ url: node.url, WebSocket: injectedWebSocket, backoff: () => 100, ...options });
  clients.push(c);
  return c;
}

/** A client on one HTTP transport through `proxy` (its requests alternate between the nodes). */
function httpClient(proxy: RoundRobinProxy, transport: TransportFactory, options: Partial<ClientOptions> = {}): Client {
  const c = createClient({ url: `http://127.0.0.1:${proxy.port}/tidewire`, transports: [transport], backoff: () => 100, ...options });
  clients.push(c);
  return c;
}

/** A subscriber and everything it saw on `channel`. */
function watch(c: Client, channel: string) {
  const seen = { values: [] as number[], offsets: [] as number[], epochs: new Set<string>(), gaps: [] as GapInfo[] };
  const ch = c.channel(channel);
  ch.on('message', (m) => {
    seen.values.push(m.data as number);
    seen.offsets.push(m.offset);
    seen.epochs.add(m.epoch);
  });
  ch.on('gap', (g) => seen.gaps.push(g));
  return { ch, ...seen };
}

const subscribed = (watchers: ReturnType<typeof watch>[]) => () => watchers.every((w) => w.ch.getSnapshot().state === 'subscribed');
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('several server processes on one Redis', () => {
  it('a message published on node A reaches a client on node B', async () => {
    const { nodes: [a, b] } = await cluster(2);
    const onB = watch(client(b!), 'room');
    await until(subscribed([onB]), 'subscribed on B');
    const ack = await client(a!).channel('room').publish(42);
    await until(() => onB.values.length === 1, 'B receives');
    expect(onB.values).toEqual([42]);
    expect(onB.offsets).toEqual([ack.offset]);
  }, 60_000);

  it('10,000 messages from random nodes while one node is SIGKILLed and restarted: every client (WebSocket per node, SSE and long poll through a round-robin proxy) gets each once, in order', async () => {
    const total = 10_000;
    const { nodes: three, prefix } = await cluster(3);
    const proxy = await startRoundRobinProxy(three.map((n) => n.port));
    proxies.push(proxy);
    const watchers = three.flatMap((node) => [0, 1, 2].map(() => watch(client(node), 'stream')));
    // Three SSE and three long-poll subscribers through the proxy, opened one at a time so the
    // sessions spread over the nodes; their POSTs and polls land on any node and are relayed.
    const httpWatchers: (ReturnType<typeof watch> & { drops: number })[] = [];
    for (const transport of [sse, longpoll, sse, longpoll, sse, longpoll]) {
      const c = httpClient(proxy, transport());
      const w = Object.assign(watch(c, 'stream'), { drops: 0 });
      c.on('state', ({ to }) => void (to.state === 'reconnecting' && w.drops++));
      httpWatchers.push(w);
      await until(subscribed([w]), 'an HTTP subscriber subscribed', 30_000);
    }
    watchers.push(...httpWatchers);
    await until(subscribed(watchers), 'every subscriber subscribed');
    // The victim is a node that owns HTTP sessions (the first one opened): their clients must recover.
    const victim = three.find((n) => n.port === proxy.opened[0])!;
    // Publishes aimed at the dead node wait in its client's outbox and go again, same id, once it is back.
    const publishOptions = { maxQueue: total, publishTimeout: 30_000 };
    const publishers = [
      ...three.map((node) => client(node, publishOptions)),
      // Publishing over HTTP through the proxy: every POST may be relayed.
      httpClient(proxy, sse(), publishOptions),
      httpClient(proxy, longpoll(), publishOptions),
    ];
    const settled = new Array<number>(total + 1).fill(0);
    const acks: PublishResult[] = [];
    const failures: unknown[] = [];
    let victimDrops = 0;
    publishers[three.indexOf(victim)]!.on('state', ({ to }) => void (to.state === 'reconnecting' && victimDrops++));
    let outage: Promise<void> | undefined;
    let inFlight = 0;
    for (let i = 1; i <= total; i++) {
      while (inFlight >= 200) await sleep(2);
      inFlight++;
      publishers[Math.floor(Math.random() * publishers.length)]!
        .publish('stream', i)
        .then(
          (ack) => void acks.push(ack),
          (e: unknown) => void failures.push(e),
        )
        .finally(() => {
          settled[i]!++;
          inFlight--;
        });
      if (i === 3000) {
        outage = (async () => {
          await victim.kill();
          await sleep(300);
          await victim.start();
        })();
      }
    }
    await outage;
    await until(() => acks.length + failures.length === total, `every publish settles (${acks.length + failures.length})`, 90_000);
    await until(() => watchers.every((w) => w.values.length >= total), 'every subscriber has everything', 90_000);
    await sleep(200); // nothing extra trickles in

    expect(victimDrops).toBeGreaterThanOrEqual(1); // the kill really cut the victim's clients
    expect(httpWatchers[0]!.drops).toBeGreaterThanOrEqual(1); // …and an HTTP session it owned, which recovered on another session
    expect(failures).toEqual([]);
    expect(settled.slice(1).every((n) => n === 1)).toBe(true);
    const ackedOffsets = acks.map((a) => a.offset).sort((x, y) => x - y);
    expect(ackedOffsets).toEqual(range(1, total)); // stored once each: one offset per publish
    expect(new Set(acks.map((a) => a.epoch)).size).toBe(1);
    expect(await storedChannel(redis.url, prefix, 'stream')).toEqual({ head: total, length: total });
    for (const w of watchers) {
      expect(w.gaps).toEqual([]);
      expect(w.offsets).toEqual(range(1, total));
      expect(new Set(w.values).size).toBe(total);
    }
  }, 180_000);

  it('all nodes restarted together: clients recover without a gap', async () => {
    const { nodes: all } = await cluster(3);
    const watchers = all.flatMap((node) => [watch(client(node), 'news'), watch(client(node), 'news')]);
    await until(subscribed(watchers), 'subscribed');
    const publisher = client(all[0]!);
    for (let i = 1; i <= 200; i++) await publisher.publish('news', i);
    await until(() => watchers.every((w) => w.values.length === 200), 'the first 200');
    await Promise.all(all.map((node) => node.kill()));
    await Promise.all(all.map((node) => node.start()));
    for (let i = 201; i <= 400; i++) await publisher.publish('news', i);
    await until(() => watchers.every((w) => w.values.length >= 400), 'the next 200 after the restart', 60_000);
    for (const w of watchers) {
      expect(w.gaps).toEqual([]);
      expect(w.values).toEqual(range(1, 400));
      expect(w.epochs.size).toBe(1);
      expect(w.ch.getSnapshot()).toMatchObject({ state: 'subscribed', recovered: true });
    }
  }, 120_000);

  it('Redis restarted mid-stream: publishes fail typed while it is down; afterwards nothing is lost or doubled, and lost history is a typed gap', async () => {
    const { nodes: two } = await cluster(2);
    const watchers = two.map((node) => watch(client(node), 'ticker'));
    await until(subscribed(watchers), 'subscribed');
    const publisher = client(two[0]!);
    for (let i = 1; i <= 100; i++) await publisher.publish('ticker', i);
    await until(() => watchers.every((w) => w.values.length === 100), 'the first 100');

    await redis.stop({ kill: true });
    const refused = await publisher.publish('ticker', -1).catch((e: unknown) => e);
    // Typed, with the broker's hint of when to try again (an outage, not a bug).
    expect(refused).toMatchObject({ code: 'server_error', message: 'temporarily unavailable', context: { retryAfter: expect.any(Number) } });

    await redis.start(); // persistence is off: it comes back empty, so history before this is gone
    const next = 101;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      // One id for every attempt: an attempt that reached Redis after all is stored once.
      const ok = await publisher.publish('ticker', next, { id: 'first-after-restart' }).then(
        () => true,
        () => false,
      );
      if (ok) break;
      await sleep(200);
    }
    for (let i = next + 1; i <= 200; i++) await publisher.publish('ticker', i);
    await until(() => watchers.every((w) => w.values.at(-1) === 200), 'the stream after Redis came back', 30_000);
    for (const w of watchers) {
      // Redis lost the epoch: exactly one typed gap, reported when the new epoch's first message
      // arrived and the client resubscribed; it continues from the head it was given, nothing twice.
      expect(w.gaps).toHaveLength(1);
      expect(w.gaps[0]).toMatchObject({ channel: 'ticker', reason: 'epoch_changed', from: { offset: 100 } });
      const resumedAt = w.gaps[0]!.to.offset;
      expect(w.values.slice(0, 100)).toEqual(range(1, 100));
      const after = w.values.slice(100);
      expect(after).toEqual(range(200 - after.length + 1, 200));
      expect(w.offsets.slice(100)[0]).toBe(resumedAt + 1);
      expect(w.values).not.toContain(-1); // the refused publish was not stored
      expect(w.epochs.size).toBe(2);
    }
  }, 120_000);

  it('Redis paused mid-stream: publishes fail typed while it does not answer; once it resumes nothing is lost or doubled, and no gap', async () => {
    const { nodes: two } = await cluster(2, { COMMAND_TIMEOUT: '500' });
    const watchers = two.map((node) => watch(client(node), 'quotes'));
    await until(subscribed(watchers), 'subscribed');
    const publisher = client(two[1]!);
    for (let i = 1; i <= 50; i++) await publisher.publish('quotes', i);
    const id = 'number-51';
    redis.pause();
    const refused = await publisher.publish('quotes', 51, { id }).catch((e: unknown) => e);
    redis.resume();
    expect(refused).toMatchObject({ code: 'server_error' });
    // The refused publish reaches Redis once it resumes (the node gave up waiting, Redis did not):
    // the retry with the same id (the app's idempotency key) gets the original position, stored once.
    await publisher.publish('quotes', 51, { id });
    for (let i = 52; i <= 100; i++) await publisher.publish('quotes', i);
    await until(() => watchers.every((w) => w.values.at(-1) === 100), 'the stream after the pause', 30_000);
    for (const w of watchers) {
      expect(w.gaps).toEqual([]);
      expect(w.values).toEqual(range(1, 100));
      expect(w.offsets).toEqual(range(1, 100));
    }
  }, 120_000);
});

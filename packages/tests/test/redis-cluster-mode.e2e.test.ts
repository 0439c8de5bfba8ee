import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Channel, type Client, type ClientOptions, type GapInfo, type TransportFactory } from '@tidewire/core';
import { createRedisBroker, type RedisBroker } from '../../redis/src/index';
import { startRoundRobinProxy, type RoundRobinProxy } from './helpers/cluster-proxy';
import { namesOnEveryMaster, nodeKeys, startRedisCluster, type RedisCluster } from './helpers/redis-cluster';
import { startServer, until, type TestServer } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * Two Tidewire servers on a real three-master Redis Cluster (helpers/redis-cluster.ts), behind a
 * round-robin proxy without sticky sessions, over every transport: publish and subscribe,
 * recovery after every connection is cut (the client comes back on either server), history and
 * presence — on channels whose keys live on each of the three masters.
 */
let cluster: RedisCluster;
let channels: string[];
const brokers: RedisBroker[] = [];
const servers: TestServer[] = [];
const proxies: RoundRobinProxy[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
  channels = (await namesOnEveryMaster(cluster, 'room')).flat();
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(proxies.map((p) => p.close()));
  await Promise.all(servers.map((s) => s[Symbol.asyncDispose]()));
  await Promise.all(brokers.map((b) => b.close()));
  await cluster?.stop();
}, 30_000);

const transports = allTransports;

let prefixes = 0;
/** Two servers on the cluster (one key prefix: one deployment) and a round-robin proxy in front. */
async function deployment() {
  const prefix = `cm${++prefixes}`;
  const nodes: TestServer[] = [];
  for (let i = 0; i < 2; i++) {
    const broker = createRedisBroker({ clusterUrls: cluster.urls, prefix, onError: () => {} });
    brokers.push(broker);
    const server = await startServer({
      broker,
      relay: broker.sessionRelay(),
      authenticate: ({ token }) => (token ? { user: token } : null),
      logger: { warn: () => {}, error: () => {} },
    });
    servers.push(server);
    nodes.push(server);
  }
  const proxy = await startRoundRobinProxy(nodes.map((n) => n.port));
  proxies.push(proxy);
  return { prefix, nodes, proxy };
}

function clientVia(proxy: RoundRobinProxy, transport: () => TransportFactory, options: Partial<ClientOptions> = {}): Client {
  const scheme = transport === transports[0]![1] ? 'ws' : 'http';
  const c = createClient({ url: `${scheme}://127.0.0.1:${proxy.port}/tidewire`, transports: [transport()], backoff: () => 100, ...options });
  clients.push(c);
  return c;
}

/** A subscription and everything it saw. */
function record(channel: Channel) {
  const seen = { values: [] as number[], offsets: [] as number[], gaps: [] as GapInfo[] };
  channel.on('message', (m) => {
    seen.values.push(m.data as number);
    seen.offsets.push(m.offset);
  });
  channel.on('gap', (g) => seen.gaps.push(g));
  return { channel, ...seen };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each(transports)('two servers on a Redis Cluster, over %s', (_name, transport) => {
  it('publish, subscribe, recovery after every connection is cut, and history, on channels of every master', async () => {
    const { prefix, nodes, proxy } = await deployment();
    const [a, b] = nodes as [TestServer, TestServer];
    const subscriber = clientVia(proxy, transport, { token: 'sub' });
    let drops = 0;
    subscriber.on('state', ({ to }) => void (to.state === 'reconnecting' && drops++));
    const watchers = channels.map((name) => record(subscriber.channel(name)));
    await until(() => watchers.every((w) => w.channel.getSnapshot().state === 'subscribed'), 'subscribed to every channel');
    const publisher = clientVia(proxy, transport, { token: 'pub' });
    for (let i = 1; i <= 10; i++) for (const name of channels) await publisher.channel(name).publish(i);
    await until(() => watchers.every((w) => w.values.length === 10), 'ten on every channel');

    // Each channel's keys live on the master owning its slot: one channel per master.
    const holders = await Promise.all(cluster.ports.map((port) => nodeKeys(port, `${prefix}:*:meta`)));
    expect(holders.map((keys) => keys.length)).toEqual([1, 1, 1]);

    // Every connection cut on both servers, and the subscriber's session dropped (a long poll
    // would otherwise just poll again); published meanwhile (server-side, on either node). Its new
    // session may land on either server.
    a.cutAll();
    b.cutAll();
    subscriber.disconnectTransport('test: drop');
    for (let i = 11; i <= 20; i++) for (const name of channels) await (i % 2 ? a : b).server.publish(name, i);
    await until(() => watchers.every((w) => w.values.length === 20), 'twenty on every channel, after the cut', 30_000);
    expect(drops).toBeGreaterThan(0);
    for (const w of watchers) {
      expect(w.channel.getSnapshot()).toMatchObject({ state: 'subscribed', recovered: true });
      expect(w.values).toEqual(range(1, 20));
      expect(w.offsets).toEqual(range(1, 20));
      expect(w.gaps).toEqual([]);
    }

    // History, read from the stream through either server.
    const reader = clientVia(proxy, transport, { token: 'reader' });
    for (const name of channels) {
      const page = await reader.channel(name).history({ limit: 5 });
      expect(page.messages.map((m) => m.data)).toEqual([20, 19, 18, 17, 16]);
      expect(page).toMatchObject({ head: 20, hasMore: true });
    }
  });

  it('presence on channels of every master: members entered through one server are seen through the other', async () => {
    const { nodes } = await deployment();
    const direct = (server: TestServer, token: string) => {
      const c = server.client({ token, transports: [transport()], ...(transport !== transports[0]![1] && { url: `http://127.0.0.1:${server.port}/tidewire` }) });
      clients.push(c);
      return c;
    };
    const onA = direct(nodes[0]!, 'alice');
    const onB = direct(nodes[1]!, 'bob');
    const users = (ch: Channel) =>
      ch.presence
        .getSnapshot()
        .members.map((m) => String(m.user))
        .sort()
        .join();
    // One handle per channel and client (each channel() call is a handle of its own).
    const watched = channels.map((name) => onB.channel(name));
    const entered = channels.map((name) => onA.channel(name));
    for (const w of watched) w.presence.subscribe(() => {});
    for (const [i, e] of entered.entries()) await e.presence.enter({ where: channels[i] });
    await until(() => watched.every((w) => users(w) === 'alice'), 'B sees alice on every channel');
    for (const [i, w] of watched.entries()) expect(w.presence.getSnapshot().members[0]).toMatchObject({ info: { where: channels[i] } });
    entered[0]!.presence.leave();
    await until(() => users(watched[0]!) === '', 'alice left the first channel');
    expect(watched.slice(1).map(users)).toEqual(['alice', 'alice']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client, type TransportFactory } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { createRedisBroker, type RedisBroker } from '../../redis/src/index';
import { freePort, startRedis, type RedisServer } from '../../redis/test/redis-server';
import { buildNodeScript, startNode, type ClusterNode, type NodeScript } from './helpers/cluster';
import { injectedWebSocket } from './helpers/env';
import { startServer, until, type TestServer } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * Presence across server processes sharing one Redis: a member entered on node A appears in the
 * `channel.presence` of a client on node B (and leaves it), over every transport; and when node A
 * is SIGKILLed — no leave is ever sent — the surviving node's clients see its members leave once
 * their TTL passes (a short TTL here; 30 s by default).
 */
let redis: RedisServer;
let script: NodeScript;
const brokers: RedisBroker[] = [];
const servers: TestServer[] = [];
const nodes: ClusterNode[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  [redis, script] = await Promise.all([startRedis(), buildNodeScript()]);
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(servers.map((s) => s[Symbol.asyncDispose]()));
  await Promise.all(brokers.map((b) => b.close()));
  await Promise.all(nodes.map((n) => n.kill()));
  await redis?.stop({ kill: true });
  await script?.[Symbol.asyncDispose]();
}, 30_000);

const transports = allTransports;

let prefixes = 0;
/** An in-process server on the Redis broker; servers made with the same `prefix` form one cluster. */
async function nodeInProcess(prefix: string, transport: () => TransportFactory): Promise<TestServer> {
  const broker = createRedisBroker({ url: redis.url, prefix, onError: () => {} });
  brokers.push(broker);
  const server = await startServer(
    { broker, authenticate: ({ token }) => (token ? { user: token } : null), logger: { warn: () => {}, error: () => {} } },
    { transports: [transport()] },
  );
  servers.push(server);
  return server;
}

const users = (c: ReturnType<Client['channel']>) =>
  c.presence
    .getSnapshot()
    .members.map((m) => String(m.user))
    .sort()
    .join();

describe.each(transports)('presence across two nodes over %s', (_name, transport) => {
  it('a member entered on node A is seen by a client on node B, and so is its leave', async () => {
    const prefix = `two${++prefixes}`;
    const [a, b] = [await nodeInProcess(prefix, transport), await nodeInProcess(prefix, transport)];
    const onB = b.client({ token: 'bob' }).channel('room');
    const leaves: string[] = [];
    onB.presence.on('leave', (m) => leaves.push(String(m.user)));
    await until(() => onB.presence.getSnapshot().state === 'synced', 'bob watches on B');
    const alice = a.client({ token: 'alice' }).channel('room');
    await alice.presence.enter({ status: 'here' });
    await until(() => users(onB) === 'alice', 'B sees alice');
    expect(onB.presence.getSnapshot().members[0]).toMatchObject({ user: 'alice', info: { status: 'here' } });

    // A member on B is seen on A as well: the list is the whole cluster's.
    alice.presence.subscribe(() => {});
    await onB.presence.enter();
    await until(() => users(alice) === 'alice,bob', 'A sees both');

    alice.presence.leave();
    await until(() => users(onB) === 'bob', 'B sees alice leave');
    expect(leaves).toEqual(['alice']);
  });
});

describe('presence after a node dies', () => {
  it("a SIGKILLed node's members leave for the clients of the surviving node once their TTL passes", async () => {
    const prefix = `killed${++prefixes}`;
    const env = { PRESENCE_TTL: '1500', PRESENCE_REFRESH: '300' };
    const [doomed, survivor] = await Promise.all(
      ['doomed', 'survivor'].map(async (name) => startNode(script, { name: `${prefix}-${name}`, port: await freePort(), redisUrl: redis.url, prefix, env })),
    );
    nodes.push(doomed!, survivor!);
    const client = (node: ClusterNode, transport: 'websocket' | 'sse' | 'longpoll') => {
      const http = `http://127.0.0.1:${node.port}/tidewire`;
      const c = createClient(
        transport === 'websocket'
          ? { url: node.url, WebSocket: injectedWebSocket, backoff: () => 100 }
          : { url: http, transports: [transport === 'sse' ? sse() : longpoll()], backoff: () => 100 },
      );
      clients.push(c);
      return c;
    };
    // Watchers on the survivor over all three transports.
    const watchers = (['websocket', 'sse', 'longpoll'] as const).map((t) => client(survivor!, t).channel('lobby'));
    for (const w of watchers) w.presence.subscribe(() => {});

    // Two members on the doomed node (over WebSocket and SSE), one on the survivor.
    const ghosts = [client(doomed!, 'websocket'), client(doomed!, 'sse')];
    for (const g of ghosts) await g.channel('lobby').presence.enter({ node: 'doomed' });
    const staying = client(survivor!, 'websocket');
    await staying.channel('lobby').presence.enter({ node: 'survivor' });
    const nodesSeen = (w: ReturnType<Client['channel']>) =>
      w.presence
        .getSnapshot()
        .members.map((m) => (m.info as { node: string }).node)
        .sort()
        .join();
    await until(() => watchers.every((w) => nodesSeen(w) === 'doomed,doomed,survivor'), 'every watcher sees all three', 20_000);

    await doomed!.kill(); // a killed process sends no leave: only the TTL can remove its members
    for (const g of ghosts) g.close(); // (after the kill: a close would end their sessions gracefully)
    await until(() => watchers.every((w) => nodesSeen(w) === 'survivor'), "the dead node's members left every watcher", 30_000);
    expect(watchers.map((w) => w.presence.getSnapshot().state)).toEqual(['synced', 'synced', 'synced']);
  }, 90_000);
});

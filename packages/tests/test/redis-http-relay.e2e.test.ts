import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client, type TransportFactory } from '@tidewire/core';
import { eventsource } from '@tidewire/core/eventsource';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { websocket } from '@tidewire/core/websocket';
import { EventSource } from 'eventsource';
import { freePort, startRedis, type RedisServer } from '../../redis/test/redis-server';
import { buildNodeScript, startNode, type ClusterNode, type NodeScript } from './helpers/cluster';
import { startRoundRobinProxy, type RoundRobinProxy } from './helpers/cluster-proxy';
import { injectedWebSocket } from './helpers/env';
import { until } from './helpers/servers';

/**
 * Sticky-free HTTP transports: three server processes on one Redis behind a proxy that sends every
 * HTTP request to the next node in turn. An SSE or long-poll session lives on the node that opened
 * it; its POSTs and polls that land elsewhere are relayed to it through Redis (docs/scaling.md).
 */
let redis: RedisServer;
let script: NodeScript;
let nodes: ClusterNode[] = [];
let proxy: RoundRobinProxy;
const clients: Client[] = [];

beforeAll(async () => {
  [redis, script] = await Promise.all([startRedis(), buildNodeScript()]);
  nodes = await Promise.all(
    ['a', 'b', 'c'].map(async (name) => startNode(script, { name: `relay-${name}`, port: await freePort(), redisUrl: redis.url, prefix: 'relay' })),
  );
  proxy = await startRoundRobinProxy(nodes.map((n) => n.port));
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await proxy?.close();
  await Promise.all(nodes.map((node) => node.kill()));
  await redis?.stop({ kill: true });
  await script?.[Symbol.asyncDispose]();
}, 30_000);

const viaProxy = (): string => `http://127.0.0.1:${proxy.port}/tidewire`;
const httpUrl = (node: ClusterNode): string => node.url.replace('ws://', 'http://');
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const transports: [string, () => TransportFactory][] = [
  ['websocket', () => websocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }) })],
  ['sse', () => sse()],
  ['longpoll', () => longpoll()],
  // SSE read by the platform's EventSource (no Authorization header): its POSTs are relayed too.
  ['eventsource', () => eventsource({ EventSource })],
];

function client(transport: () => TransportFactory): Client {
  const c = createClient({ url: viaProxy(), WebSocket: injectedWebSocket, transports: [transport()], backoff: () => 100 });
  clients.push(c);
  return c;
}

describe.each(transports)('a %s session through a round-robin proxy, no sticky routing', (name, transport) => {
  it('receives every message once, in order, and its own publishes are acknowledged', async () => {
    const channel = `room-${name}`;
    const subscriber = client(transport);
    const values: number[] = [];
    const ch = subscriber.channel<number>(channel);
    ch.on('message', (m) => values.push(m.data));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed', 30_000);
    const before = new Map(proxy.sessionRequests);

    // Half published by the subscriber itself (its POSTs alternate between nodes), half by a
    // WebSocket client (whichever node it landed on).
    const other = client(transports[0]![1]).channel<number>(channel);
    const acks = [];
    for (let i = 1; i <= 60; i++) acks.push(await (i % 2 ? ch : other).publish(i));
    await until(() => values.length >= 60, `all 60 delivered (${values.length})`, 30_000);
    await new Promise((r) => setTimeout(r, 200)); // nothing extra trickles in

    expect(values).toEqual(range(1, 60));
    expect(acks.map((a) => a.offset)).toEqual(range(1, 60));
    expect(subscriber.getSnapshot()).toMatchObject({ state: 'connected', transport: name });
    if (name !== 'websocket') {
      // The session's own requests really landed on more than one node.
      const landed = [...proxy.sessionRequests].filter(([port, n]) => n > (before.get(port) ?? 0));
      expect(landed.length).toBeGreaterThanOrEqual(2);
    }
  }, 90_000);
});

describe('relayed requests are checked by the owning node', () => {
  /** Open a long-poll session on `node` directly: `{ sid, secret }`. */
  async function openPoll(node: ClusterNode): Promise<{ sid: string; secret: string }> {
    const res = await fetch(`${httpUrl(node)}/poll`, { method: 'POST' });
    expect(res.status).toBe(200);
    return (await res.json()) as { sid: string; secret: string };
  }

  it('a poll and a POST sent to another node reach the session; a wrong secret is refused 403 there', async () => {
    const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const { sid, secret } = await openPoll(a);
    expect(sid).toMatch(/^[A-Za-z0-9_-]+\./); // the owner's id in front

    const wrong = await fetch(`${httpUrl(b)}/poll?sid=${sid}&ack=0`, { headers: { 'x-tidewire-secret': 'not-it' } });
    expect(wrong.status).toBe(403);

    // The connect frame goes in through C; the session on A answers it, and the poll through B collects it.
    const post = await fetch(`${httpUrl(c)}/poll?sid=${sid}`, {
      method: 'POST',
      headers: { 'x-tidewire-secret': secret, 'content-type': 'application/json' },
      body: JSON.stringify([JSON.stringify({ type: 'connect', v: 1 })]),
    });
    expect(post.status).toBe(204);
    const poll = await fetch(`${httpUrl(b)}/poll?sid=${sid}&ack=0`, { headers: { 'x-tidewire-secret': secret } });
    expect(poll.status).toBe(200);
    const batch = (await poll.json()) as { seq: number; frames: string[] };
    expect(batch.seq).toBe(1);
    expect(batch.frames.map((f) => (JSON.parse(f) as { type: string }).type)).toContain('connected');

    const bye = await fetch(`${httpUrl(b)}/poll?sid=${sid}`, { method: 'DELETE', headers: { 'x-tidewire-secret': secret } });
    expect(bye.status).toBe(204);
    const after = await fetch(`${httpUrl(c)}/poll?sid=${sid}&ack=1`, { headers: { 'x-tidewire-secret': secret } });
    expect(after.status).toBe(404); // the owner ended it
  }, 60_000);

  it('a poll held for a node that is then killed is answered 404 once Redis sees it gone, not after the poll timeout', async () => {
    const doomed = await startNode(script, { name: 'relay-d', port: await freePort(), redisUrl: redis.url, prefix: 'relay' });
    nodes.push(doomed);
    const { sid, secret } = await openPoll(doomed);
    const headers = { 'x-tidewire-secret': secret };
    await fetch(`${httpUrl(doomed)}/poll?sid=${sid}`, { method: 'POST', headers, body: JSON.stringify([JSON.stringify({ type: 'connect', v: 1 })]) });
    expect((await fetch(`${httpUrl(doomed)}/poll?sid=${sid}&ack=0`, { headers })).status).toBe(200);
    // Nothing to send: the owner holds this poll (25 s); the relay on B waits for it.
    const held = fetch(`${httpUrl(nodes[1]!)}/poll?sid=${sid}&ack=1`, { headers, signal: AbortSignal.timeout(20_000) }).then(
      (res) => res.status,
      (e: unknown) => (e as Error).name,
    );
    await new Promise((r) => setTimeout(r, 300)); // let the request reach the owner
    await doomed.kill();
    expect(await held).toBe(404); // not 'TimeoutError', which the poll timeout (25 s) would have meant
  }, 60_000);

  it('a session of a node nobody runs is unknown at once (404), not a timeout', async () => {
    const res = await fetch(`${httpUrl(nodes[0]!)}/poll?sid=nosuchnode.abcdef&ack=0`, { headers: { 'x-tidewire-secret': 'x' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  }, 30_000);
});

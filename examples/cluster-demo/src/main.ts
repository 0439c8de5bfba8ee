/**
 * `pnpm demo:cluster`: Redis, three Tidewire nodes (child processes, each on the
 * Redis broker) and a round-robin TCP proxy in front of them. Clients on all
 * three transports subscribe; a publisher streams 2,000 messages through the
 * proxy; midway node B is killed (SIGKILL) and restarted. The last lines check
 * the claim: every client got every message once, in order, without a gap.
 *
 * Every client goes through the proxy, which sends each HTTP request to the next
 * node in turn: no sticky sessions. An SSE or long-poll session lives on the node
 * that opened it; its POSTs and polls that land elsewhere are relayed to it
 * through Redis (docs/scaling.md: "HTTP transports without sticky sessions").
 */
// Not a workspace package of its own (that would need a new install and lockfile entry): it
// imports the workspace sources directly, as the test helpers it reuses do.
import { createClient, type Client, type TransportFactory } from '../../../packages/core/src/index';
import { longpoll } from '../../../packages/core/src/transports/longpoll';
import { sse } from '../../../packages/core/src/transports/sse';
import { websocket } from '../../../packages/core/src/transports/websocket';
import WebSocket from 'ws';
import { freePort, startRedis } from '../../../packages/redis/test/redis-server';
import { buildNodeScript, startNode } from '../../../packages/tests/test/helpers/cluster';
import { startRoundRobinProxy } from '../../../packages/tests/test/helpers/cluster-proxy';

const TOTAL = 2000;
const KILL_AT = 700;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

console.log('starting redis-server (persistence off) …');
const redis = await startRedis();
const script = await buildNodeScript();
const nodes = await Promise.all(
  ['A', 'B', 'C'].map(async (name) => startNode(script, { name, port: await freePort(), redisUrl: redis.url, prefix: 'demo' })),
);
const proxy = await startRoundRobinProxy(nodes.map((n) => n.port));
const viaProxy = `ws://127.0.0.1:${proxy.port}/tidewire`;
console.log(`redis ${redis.url}; nodes ${nodes.map((n) => `${n.name}:${n.port}`).join(', ')}; round-robin proxy :${proxy.port}`);

interface Watcher {
  readonly label: string;
  readonly client: Client;
  readonly values: number[];
  gaps: number;
}
const clients: Client[] = [];
const watchers: Watcher[] = [];
function subscriber(label: string, url: string, transport: TransportFactory): void {
  const client = createClient({ url, WebSocket, transports: [transport], backoff: () => 200 });
  clients.push(client);
  const watcher: Watcher = { label, client, values: [], gaps: 0 };
  const channel = client.channel<number>('demo:stream');
  channel.on('message', (m) => watcher.values.push(m.data));
  channel.on('gap', (g) => {
    watcher.gaps++;
    console.log(`  ${label}: gap ${g.reason}`);
  });
  let down = false; // log each outage once, not every retry
  client.on('state', ({ to }) => {
    if (to.state === 'reconnecting' && !down) console.log(`  ${label}: connection lost, reconnecting …`);
    if (to.state === 'connected' && down) console.log(`  ${label}: connected again`);
    down = to.state !== 'connected';
  });
  watchers.push(watcher);
}

const httpViaProxy = viaProxy.replace('ws://', 'http://');
for (let i = 1; i <= 3; i++) {
  subscriber(`ws-${i}`, viaProxy, websocket({ WebSocket }));
  subscriber(`sse-${i}`, httpViaProxy, sse());
  subscriber(`poll-${i}`, httpViaProxy, longpoll());
}
const subscribedAll = () => watchers.every((w) => w.client.channel('demo:stream').getSnapshot().state === 'subscribed');
while (!subscribedAll()) await sleep(20);
console.log(`${watchers.length} subscribers ready; publishing ${TOTAL} messages through the proxy`);

const publisher = createClient({ url: viaProxy, WebSocket, backoff: () => 200, maxQueue: TOTAL });
clients.push(publisher);
const victim = nodes[1]!;
let outage: Promise<void> | undefined;
const publishes: Promise<unknown>[] = [];
for (let n = 1; n <= TOTAL; n++) {
  publishes.push(publisher.publish('demo:stream', n));
  if (n % 50 === 0) await Promise.all(publishes.slice(-50)); // a steady stream, not one burst
  if (n === KILL_AT) {
    console.log(`-- SIGKILL node ${victim.name} at message ${n}; restarting it in 1 s`);
    outage = (async () => {
      await victim.kill();
      await sleep(1000);
      await victim.start();
      console.log(`-- node ${victim.name} is back`);
    })();
  }
}
await Promise.all(publishes);
await outage;
const deadline = Date.now() + 30_000;
while (Date.now() < deadline && !watchers.every((w) => w.values.length >= TOTAL)) await sleep(50);

let ok = true;
for (const w of watchers) {
  const inOrder = w.values.every((v, i) => v === i + 1);
  const good = w.values.length === TOTAL && inOrder && w.gaps === 0;
  ok &&= good;
  console.log(`${good ? '✓' : '✗'} ${w.label.padEnd(14)} received ${w.values.length}/${TOTAL}, once and in order: ${inOrder}, gaps: ${w.gaps}`);
}
console.log(ok ? 'every client got every message once, in order, across a node kill' : 'CHECK FAILED');

for (const client of clients) client.close();
await proxy.close();
await Promise.all(nodes.map((n) => n.stop()));
await redis.stop();
await script[Symbol.asyncDispose]();
process.exit(ok ? 0 : 1);

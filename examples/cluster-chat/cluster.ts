/**
 * The cluster chat: a private `redis-server`, three Tidewire nodes (child processes on the Redis
 * broker, relaying HTTP sessions to each other through it) and a front door on one port that
 * serves the app, balances every Tidewire request — WebSocket upgrades, SSE streams, long polls
 * and POSTs — round-robin over the live nodes with no stickiness, and lets the UI kill and
 * restart nodes (`/control/nodes`).
 */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, startRedis } from '../../packages/redis/test/redis-server';
import { buildNodeScript, startNode } from '../../packages/tests/test/helpers/cluster';
import type { ClusterNode } from '../../packages/tests/test/helpers/cluster';
import { serveStatic } from '../shared/serve-static';
import { forwardRequest, forwardUpgrade } from '../shared/forward';
import { buildIfMissing } from '../shared/listen';

export interface ClusterChatOptions {
  /** The front door's port; 0 picks a free one. Default 8791 (or $PORT). */
  port?: number;
  /** The built browser app. Default ./dist. */
  dir?: string;
}

/** A node as the UI sees it. */
export interface NodeStatus {
  readonly name: string;
  readonly alive: boolean;
  /** Connections the front door holds open to it now: WebSockets, SSE streams, held polls, POSTs in flight. */
  readonly connections: number;
}

export interface ClusterChat {
  readonly url: string;
  readonly http: HttpServer;
  nodes(): NodeStatus[];
  close(): Promise<void>;
}


export async function startClusterChat(options: ClusterChatOptions = {}): Promise<ClusterChat> {
  const dir = resolve(options.dir ?? fileURLToPath(new URL('./dist', import.meta.url)));
  const redis = await startRedis();
  // Bundled into one file: a killed node restarts in a fraction of the time tsx would take.
  const script = await buildNodeScript(fileURLToPath(new URL('./node.ts', import.meta.url)));
  const prefix = `cluster-chat-${Date.now()}`;
  const nodes: ClusterNode[] = await Promise.all(
    ['A', 'B', 'C'].map(async (name) => startNode(script, { name, port: await freePort(), redisUrl: redis.url, prefix })),
  );
  const alive = new Set(nodes.map((n) => n.name));
  const links = new Map<string, Set<Socket>>(nodes.map((n) => [n.name, new Set()]));
  let turn = 0;

  const statuses = (): NodeStatus[] => nodes.map((n) => ({ name: n.name, alive: alive.has(n.name), connections: links.get(n.name)!.size }));

  /** `/control/nodes` (GET: statuses), `/control/nodes/<name>/kill` and `/restart` (POST). */
  const control = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const [, , , name, action] = new URL(req.url ?? '/', 'http://x').pathname.split('/');
    const node = nodes.find((n) => n.name === name);
    if (req.method === 'POST' && node && action === 'kill') {
      alive.delete(node.name);
      await node.kill(); // SIGKILL: its clients lose their sockets mid-stream, as in a crash
    } else if (req.method === 'POST' && node && action === 'restart') {
      if (!alive.has(node.name)) await node.start();
      alive.add(node.name);
    } else if (req.method !== 'GET' || name) {
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(statuses()));
  };

  /** The next live node, round-robin, and a tracker that counts the upstream socket against it. */
  const next = (): { port: number; track: (upstream: Socket) => void } | undefined => {
    const candidates = nodes.filter((n) => alive.has(n.name));
    const node = candidates[turn++ % Math.max(1, candidates.length)];
    if (!node) return undefined;
    const held = links.get(node.name)!;
    return { port: node.port, track: (upstream) => void held.add(upstream.once('close', () => held.delete(upstream))) };
  };

  const files = serveStatic(dir);
  // No stickiness: every request goes to the next live node. A WebSocket stays where it landed;
  // an SSE or long-poll session lives on the node that opened it, and its requests that land on
  // another node are relayed to it through Redis (`relay` in node.ts). A node's death ends its
  // sockets and streams; the clients reconnect through here and land on the others.
  const http = createHttpServer((req, res) => {
    if (req.url?.startsWith('/control/nodes')) return void control(req, res).catch(() => res.writeHead(500).end());
    if (!req.url?.startsWith('/tidewire')) return void files(req, res);
    const node = next();
    if (!node) return void res.writeHead(502, { 'content-type': 'text/plain' }).end('no live node');
    forwardRequest(req, res, node.port, node.track);
  });
  http.on('upgrade', (req: IncomingMessage, inbound: Duplex, head: Buffer) => {
    const node = next();
    if (!node) return void inbound.destroy();
    forwardUpgrade(req, inbound, head, node.port, node.track);
  });
  await new Promise<void>((done) => http.listen(options.port ?? 8791, '127.0.0.1', done));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    http,
    nodes: statuses,
    async close() {
      http.closeAllConnections();
      for (const held of links.values()) for (const socket of held) socket.destroy();
      await new Promise<void>((done) => http.close(() => done()));
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.stop();
      await script[Symbol.asyncDispose]();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dist = fileURLToPath(new URL('./dist', import.meta.url));
  await buildIfMissing(dist, async () => (await import('./build')).buildClusterChat(dist));
  console.log('Starting redis-server (persistence off) and three nodes…');
  const chat = await startClusterChat({ port: Number(process.env.PORT ?? 8791) });
  console.log(`Cluster chat on ${chat.url} (nodes A, B, C on Redis). Open it in two windows, then kill a node. Ctrl+C to stop.`);
  process.once('SIGINT', () => void chat.close().then(() => process.exit(0)));
}

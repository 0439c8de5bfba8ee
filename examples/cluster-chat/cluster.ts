/**
 * The cluster chat: a private `redis-server`, three Tidewire nodes (child processes on the Redis
 * broker) and a front door on one port that serves the app, balances WebSocket upgrades
 * round-robin over the live nodes, and lets the UI kill and restart nodes (`/control/nodes`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { freePort, startRedis } from '../../packages/redis/test/redis-server';
import { startNode } from '../../packages/tests/test/helpers/cluster';
import type { ClusterNode } from '../../packages/tests/test/helpers/cluster';
import { serveStatic } from '../shared/serve-static';
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
  /** WebSocket connections the front door holds open to it now. */
  readonly connections: number;
}

export interface ClusterChat {
  readonly url: string;
  readonly http: HttpServer;
  nodes(): NodeStatus[];
  close(): Promise<void>;
}

/** Bundle node.ts into one file: a killed node restarts in a fraction of the time tsx would take. */
async function buildNode(): Promise<{ path: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tidewire-cluster-chat-'));
  const path = join(dir, 'node.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./node.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@tidewire/source'],
    outfile: path,
    logLevel: 'warning',
    // CommonJS dependencies (node-redis) call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  return { path, dir };
}

/** The request line and headers as they came, for the node behind the front door. */
function rawHead(req: IncomingMessage): string {
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i < req.rawHeaders.length; i += 2) head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  return `${head}\r\n`;
}

export async function startClusterChat(options: ClusterChatOptions = {}): Promise<ClusterChat> {
  const dir = resolve(options.dir ?? fileURLToPath(new URL('./dist', import.meta.url)));
  const redis = await startRedis();
  const script = await buildNode();
  const prefix = `cluster-chat-${Date.now()}`;
  const nodes: ClusterNode[] = await Promise.all(
    ['A', 'B', 'C'].map(async (name) => startNode({ path: script.path, [Symbol.asyncDispose]: async () => {} }, { name, port: await freePort(), redisUrl: redis.url, prefix })),
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

  const files = serveStatic(dir);
  const http = createHttpServer((req, res) => {
    if (req.url?.startsWith('/control/nodes')) return void control(req, res).catch(() => res.writeHead(500).end());
    void files(req, res);
  });
  // No stickiness: each new WebSocket goes to the next live node. A node's death ends its
  // sockets; the clients reconnect through here and land on the others.
  http.on('upgrade', (req: IncomingMessage, inbound: Duplex, head: Buffer) => {
    const candidates = nodes.filter((n) => alive.has(n.name));
    const node = candidates[turn++ % Math.max(1, candidates.length)];
    if (!node) return void inbound.destroy();
    const outbound = connect(node.port, '127.0.0.1', () => outbound.write(rawHead(req)) && outbound.write(head));
    const held = links.get(node.name)!;
    held.add(outbound);
    outbound.on('close', () => {
      held.delete(outbound);
      inbound.destroy();
    });
    inbound.on('close', () => outbound.destroy());
    for (const socket of [inbound, outbound]) socket.on('error', () => {});
    inbound.pipe(outbound).pipe(inbound);
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
      await rm(script.dir, { recursive: true, force: true });
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

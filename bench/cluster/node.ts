/**
 * Child process of the cluster scenario (cluster/run.ts): one server node of a 3-node cluster on
 * one Redis — Tidewire on `@tidewire/redis` (with the sticky-free HTTP relay, as deployed), or
 * socket.io on `@socket.io/redis-adapter` — speaking the bench subjects' protocol (channels `fan`
 * and `rtt`; see subjects/tidewire.ts and subjects/socketio.ts). Driven over IPC.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient as createRedisClient } from '@redis/client';
import { createAdapter } from '@socket.io/redis-adapter';
import { createRedisBroker } from '@tidewire/redis';
import { createServer } from '@tidewire/server';
import { Server } from 'socket.io';
import { memory, nowUs, serveChild } from '../lib/ipc';
import { BENCH_SERVER_OPTIONS } from '../subjects/tidewire';

export type ClusterSubject = 'tidewire-ws' | 'socketio-ws';

interface Node {
  readonly url: string;
  broadcast(data: unknown): Promise<unknown> | void;
  close(): Promise<void>;
}

let node: Node | undefined;
const BODY = 'x'.repeat(40);

async function startTidewire(redisUrl: string, prefix: string): Promise<Node> {
  const broker = createRedisBroker({ url: redisUrl, prefix, onError: () => {} });
  await broker.ready();
  const server = createServer({ ...BENCH_SERVER_OPTIONS, broker, relay: broker.sessionRelay() });
  const { url } = await server.listen(0);
  return {
    url,
    broadcast: (data) => server.publish('fan', data),
    async close() {
      await server.close();
      await broker.close();
    },
  };
}

/** socket.io as its docs deploy it on Redis: the default adapter, one pub and one sub connection. */
async function startSocketIo(redisUrl: string, prefix: string): Promise<Node> {
  const pub = createRedisClient({ url: redisUrl });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const http = createHttpServer();
  const io = new Server(http, { transports: ['websocket'], serveClient: false, maxHttpBufferSize: 1e8, adapter: createAdapter(pub, sub, { key: prefix }) });
  io.on('connection', (socket) => {
    void socket.join(String(socket.handshake.query.ch ?? ''));
    // A publish: fan it out to the channel across the cluster, then acknowledge (the Tidewire side
    // acknowledges after Redis stored it and fans out the same way).
    socket.on('p', (data: unknown, ack: (v: number) => void) => {
      io.to('rtt').emit('m', data);
      ack(1);
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    broadcast: (data) => void io.to('fan').emit('m', data),
    async close() {
      io.disconnectSockets(true);
      await new Promise((r) => io.close(r));
      await Promise.allSettled([pub.close(), sub.close()]);
    },
  };
}

serveChild({
  async start({ subject, redisUrl, prefix }: { subject: ClusterSubject; redisUrl: string; prefix: string }) {
    node = subject === 'tidewire-ws' ? await startTidewire(redisUrl, prefix) : await startSocketIo(redisUrl, prefix);
    return { url: node.url };
  },
  /** One message to every `fan` subscriber on every node, stamped with the send time (CLOCK_MONOTONIC). */
  async broadcast({ k }: { k: number }) {
    await node!.broadcast({ k, t: nowUs(), body: BODY });
  },
  mem: () => memory(),
  cpu: () => process.cpuUsage(),
  async stop() {
    await node?.close();
    node = undefined;
  },
});

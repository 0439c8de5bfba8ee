/**
 * One cluster-chat node: a Tidewire server on the Redis broker (same `PREFIX` on every node = one
 * cluster). Configured by environment: PORT (fixed, so a restarted node comes back where it was),
 * REDIS_URL, PREFIX, NODE_NAME. Prints `listening <url>` once it accepts connections.
 */
import { createServer, PublishRefusal } from '../../packages/server/src/index';
import { createRedisBroker } from '../../packages/redis/src/index';

/** Who a session is: the name from the token, and the node it is connected to (shown in "who's online"). */
export interface ChatUser {
  readonly name: string;
  readonly node: string;
}

const node = process.env.NODE_NAME ?? `node-${process.pid}`;
const broker = createRedisBroker({
  url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: process.env.PREFIX ?? 'cluster-chat',
  history: { size: 5_000, ttl: 10 * 60_000 },
  // Who's online lives in Redis. A killed node cannot say its users left: their entries expire
  // within ttl + refresh (8 s here, so the demo shows it; the default is 40 s), while the users
  // themselves re-enter from the node they moved to.
  presence: { ttl: 6_000, refresh: 2_000 },
  onError: () => {}, // a node outlives a Redis hiccup: publishes report it typed meanwhile
});
const server = createServer<ChatUser>({
  broker,
  // No sticky sessions needed for SSE and long polling: a request that reaches this node for a
  // session another node owns is relayed to that node through Redis (docs/scaling.md).
  relay: broker.sessionRelay(),
  // A demo login: the token is the name. Real apps verify a signed token (docs/auth.md).
  authenticate: ({ token }) => (token && /^[A-Za-z][\w -]{0,23}$/.test(token) ? { user: { name: token, node } } : null),
  authorize: ({ channel }) => channel === 'chat:lobby',
  // Server-driven heartbeats every 5 s: a client that hears nothing for longer knows the line is dead.
  heartbeat: 5_000,
  // Per connection: 5 requests a second, bursts of 10. Announced to clients, which pace themselves.
  limits: { rate: { perSecond: 5, burst: 10 } },
  // Stamp the sender and the node that took the message; refuse empty text.
  onPublish: ({ user, data }) => {
    const text = (data as { text?: unknown } | null)?.text;
    if (typeof text !== 'string' || !text.trim()) throw new PublishRefusal('empty message', 'bad_request');
    return { data: { text: text.slice(0, 500), from: user.name, via: node } };
  },
  // Which node answered: the UI shows it, so you can see users move when a node dies.
  rpc: { whereAmI: () => node },
  logger: { warn: () => {}, error: (message, details) => console.error(message, details) },
});
const { url } = await server.listen(Number(process.env.PORT ?? 0));
process.stdout.write(`listening ${url} ${node}\n`);

const shutdown = async (): Promise<void> => {
  await server.close();
  await broker.close();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

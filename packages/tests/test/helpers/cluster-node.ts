/**
 * One Tidewire server process on the Redis broker, for the multi-node tests
 * and the cluster demo. Configured by environment: PORT (fixed, so a restarted
 * node comes back where its clients reconnect), REDIS_URL, PREFIX, NODE_NAME; optionally
 * PRESENCE_TTL and PRESENCE_REFRESH (ms: how soon a killed node's presence members leave).
 * Prints `listening <url>` once it accepts connections. SSE and long-poll requests for a
 * session of another node are relayed to it through Redis (docs/scaling.md).
 */
import { createServer } from '@tidewire/server';
import { createRedisBroker } from '../../../redis/src/index';

const name = process.env.NODE_NAME ?? `node-${process.pid}`;
const broker = createRedisBroker({
  url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: process.env.PREFIX ?? 'tidewire',
  history: { size: 20_000, ttl: 10 * 60_000 },
  ...(process.env.COMMAND_TIMEOUT && { commandTimeout: Number(process.env.COMMAND_TIMEOUT) }),
  ...(process.env.PRESENCE_TTL && { presence: { ttl: Number(process.env.PRESENCE_TTL), refresh: Number(process.env.PRESENCE_REFRESH ?? 1000) } }),
  onError: () => {}, // a Redis outage is expected in these tests; publishes report it typed
});
const server = createServer({
  broker,
  // Sticky-free SSE and long polling: requests for another node's session are relayed to it.
  relay: broker.sessionRelay(),
  // The tests and the demo push thousands of messages through few connections.
  limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } },
  logger: { warn: () => {}, error: () => {} },
});
const { url } = await server.listen(Number(process.env.PORT ?? 0));
process.stdout.write(`listening ${url} ${name}\n`);

const shutdown = async (): Promise<void> => {
  await server.close();
  await broker.close();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '@tidewire/core';
import { createServer, MemoryBroker, type Broker, type TidewireServer } from '@tidewire/server';
import { createRedisBroker, type RedisBroker } from '../../redis/src/index';
import { startRedis, type RedisServer } from '../../redis/test/redis-server';
import { injectedWebSocket } from './helpers/env';
import { until } from './helpers/servers';

/**
 * A position read from the history of a channel never used (the documented snapshot→live bridge,
 * docs/client.md "Starting from a known position", and the server's own `recent`) must resume with
 * everything published after it — on Redis the page once carried epoch '' and the resume script took
 * such a `since` for "no since": resumed live at the head, a silent hole.
 */
let redis: RedisServer;
const brokers: RedisBroker[] = [];
const servers: TidewireServer[] = [];
const clients: Client[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(brokers.map((b) => b.close()));
  await redis?.stop({ kill: true });
});

async function serverOn(kind: string, wrap?: (b: Broker) => Broker): Promise<{ server: TidewireServer; url: string; broker: Broker }> {
  let broker: Broker;
  if (kind === 'redis') {
    const b = createRedisBroker({ url: redis.url, prefix: `firstread${servers.length}`, onError: () => {} });
    brokers.push(b);
    broker = b;
  } else broker = new MemoryBroker();
  const server = createServer({ broker: wrap ? wrap(broker) : broker, logger: { warn() {}, error() {} } });
  servers.push(server);
  return { server, url: (await server.listen(0)).url, broker };
}
const client = (url: string): Client => {
  const c = createClient({ url, WebSocket: injectedWebSocket });
  clients.push(c);
  return c;
};

describe.each(['memory', 'redis'])('%s broker: a position read from a never-used channel', (kind) => {
  it('since = the page position: the messages published after the page are replayed', async () => {
    const { server, url } = await serverOn(kind);
    const page = await client(url).channel('fresh').history();
    expect(page.epoch).not.toBe('');
    await server.publish('fresh', 'm1');
    await server.publish('fresh', 'm2');
    const got: string[] = [];
    const gaps: string[] = [];
    const ch = client(url).channel<string>('fresh', { since: { epoch: page.epoch, offset: page.head } });
    ch.on('message', (m) => got.push(m.data));
    ch.on('gap', (g) => gaps.push(g.reason));
    await until(() => got.length === 2, 'both messages');
    expect(got).toEqual(['m1', 'm2']);
    expect(gaps).toEqual([]);
  });

  it('subscribe with recent: a message published between the server\'s history read and its subscribe is delivered', async () => {
    // Another process publishes right after the server read the (empty) recent history: the race §15.2 covers.
    let other: (() => Promise<unknown>) | undefined;
    const { server, url } = await serverOn(kind, (b) =>
      Object.assign(Object.create(b) as Broker, {
        publish: b.publish.bind(b),
        subscribe: b.subscribe.bind(b),
        history: async (channel: string, q: Parameters<NonNullable<Broker['history']>>[1]) => {
          const page = await b.history!(channel, q);
          await other?.();
          return page;
        },
      }),
    );
    other = () => server.publish('fresh-recent', 'between');
    const got: string[] = [];
    const gaps: string[] = [];
    const ch = client(url).channel<string>('fresh-recent', { recent: 10 });
    ch.on('message', (m) => got.push(m.data));
    ch.on('gap', (g) => gaps.push(g.reason));
    await until(() => got.length === 1, 'the message published in between');
    other = undefined;
    expect(got).toEqual(['between']);
    expect(gaps).toEqual([]);
  });
});

import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type TidewireServer } from '@tidewire/server';
import { createRedisBroker } from '../../redis/src/index';
import { startRedis, type RedisServer } from '../../redis/test/redis-server';
import { until } from './helpers/servers';

/**
 * Another process writes junk on the broker's pub/sub channels (a buggy or older node, a stray
 * script). Whatever it writes, the server must keep delivering the *other* channels' messages:
 * one bad notification must not take down the process's shared subscriber connection.
 */
let redis: RedisServer;
let server: TidewireServer;
let broker: ReturnType<typeof createRedisBroker>;
let prefix = '';
let servers = 0;
const brokerErrors: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
beforeEach(() => {
  // a fresh broker (its own subscriber connection) per test
  prefix = `junk${++servers}`;
  broker = createRedisBroker({ url: redis.url, prefix, onError: (e) => void brokerErrors.push(String(e)) });
  server = createServer({ broker, logger: { warn: () => {}, error: () => {} } });
});
afterEach(() => server.close());
afterAll(async () => {
  await redis.stop({ kill: true });
});

const cli = (...args: string[]): string => execFileSync('redis-cli', ['-p', String(redis.port), '--raw', ...args]).toString().trim();
/** Sharded where the broker uses sharded pub/sub (Redis 7+), classic otherwise: send both. */
const publishRaw = (channel: string, payload: string): void => {
  cli('PUBLISH', channel, payload);
  try {
    cli('SPUBLISH', channel, payload);
  } catch {
    // Redis < 7
  }
};

describe('junk on the Redis pub/sub channels', () => {
  it.each([
    ['a channel notification whose body is a number', async (a: string, epoch: string) => [`${prefix}:{${a}}:notify`, `*2:2:${epoch}:[5]`]],
    ['a channel notification whose body is null', async (a: string, epoch: string) => [`${prefix}:{${a}}:notify`, `*2:2:${epoch}:[null]`]],
    ['a presence change whose member is null', async (a: string) => {
      await broker.watchPresence!(a, () => {});
      return [`${prefix}:{${a}}:presence:notify`, '1:j:null'];
    }],
    ['a relay inbox message that is JSON null', async () => {
      const relay = broker.sessionRelay();
      relay.serve(async () => ({ status: 204, headers: {}, body: '' }));
      await new Promise((r) => setTimeout(r, 300)); // its inbox subscribed
      return [`${prefix}:{node:${relay.nodeId}}:inbox`, 'null'];
    }],
  ] as const)('%s on one channel does not stop live delivery on another channel', async (_name, junk) => {
    const a = `a${Math.random().toString(36).slice(2)}`;
    const b = `b${Math.random().toString(36).slice(2)}`;
    const gotA: unknown[] = [];
    const gotB: unknown[] = [];
    await server.subscribe(a, (m) => void gotA.push(m.data));
    await server.subscribe(b, (m) => void gotB.push(m.data));
    await server.publish(a, 'a1');
    await until(() => gotA.length === 1, 'a1');
    const epoch = cli('HGET', `${prefix}:{${a}}:meta`, 'e');
    const [where, payload] = await junk(a, epoch);
    publishRaw(where!, payload!);
    await server.publish(b, 'b1');
    await server.publish(a, 'a2');
    // b1 is a genuine message on an untouched channel; a2 the genuine next one of the junked channel
    await until(() => gotB.length === 1 && gotA.length === 2, `b1 and a2 delivered (got a: ${JSON.stringify(gotA)}, b: ${JSON.stringify(gotB)}; broker errors: ${brokerErrors.slice(-2).join(' | ')})`, 5000);
    expect(gotB).toEqual(['b1']);
    expect(gotA).toEqual(['a1', 'a2']);
  });
});

import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type TidewireServer } from '@tidewire/server';
import { websocket } from '@tidewire/core/websocket';
import { createRedisBroker } from '../../redis/src/index';
import { startRedis, type RedisServer } from '../../redis/test/redis-server';
import { openLine } from './helpers/raw-protocol-line';
import { until } from './helpers/servers';

/**
 * A notification on a channel's pub/sub key is trusted as is (redis/src/codec.ts decodeNotification:
 * no check that a body is `[string id, data]`; channelFeed.ts delivers the next offset without
 * looking at the stream). Junk for the next offset — a body without data, a numeric id — reaches
 * every live subscriber of the process as offset n (a `message` frame without `data`, or with a
 * number for `id`: invalid frames), and the message really stored at n is then dropped as already
 * delivered. Live subscribers never get it; history and every replay have it: live and recovered
 * streams of one channel disagree, silently.
 */
let redis: RedisServer;
let server: TidewireServer;
let prefix = '';
let n = 0;
beforeAll(async () => {
  redis = await startRedis();
});
beforeEach(() => {
  prefix = `displace${++n}`;
  server = createServer({ broker: createRedisBroker({ url: redis.url, prefix, onError: () => {} }), logger: { warn: () => {}, error: () => {} } });
});
afterEach(() => server.close());
afterAll(() => redis.stop({ kill: true }));

const cli = (...args: string[]): string => execFileSync('redis-cli', ['-p', String(redis.port), '--raw', ...args]).toString().trim();
const publishRaw = (channel: string, payload: string): void => {
  cli('PUBLISH', channel, payload);
  try {
    cli('SPUBLISH', channel, payload);
  } catch {
    // Redis < 7
  }
};

describe('a malformed notification for the next offset', () => {
  it.each([['a body without data', '[["only-id"]]'], ['a numeric id', '[[7,"x"]]']])('%s does not replace the stored message for live subscribers', async (_name, bodies) => {
    const { url } = await server.listen(0);
    const line = await openLine('websocket', url, websocket);
    line.send({ type: 'subscribe', id: 's', channel: 'room' });
    await line.next((f) => f.type === 'subscribed', 'subscribed');
    await server.publish('room', 'm1');
    await line.next((f) => f.type === 'message' && f.offset === 1, 'm1');
    const epoch = cli('HGET', `${prefix}:{room}:meta`, 'e');
    publishRaw(`${prefix}:{room}:notify`, `*2:2:${epoch}:${bodies}`);
    await new Promise((r) => setTimeout(r, 300));
    await server.publish('room', 'm2');
    await server.publish('room', 'm3');
    await line.next((f) => f.type === 'message' && f.offset === 3, 'm3');
    await until(() => line.frames.filter((f) => f.type === 'message').length >= 3, 'three messages');
    const live = line.frames.filter((f) => f.type === 'message').map((f) => [f.offset, f.id === undefined ? '(no id)' : typeof f.id, 'data' in f ? f.data : '(no data)']);
    line.close();
    expect(live).toEqual([
      [1, 'string', 'm1'],
      [2, 'string', 'm2'],
      [3, 'string', 'm3'],
    ]);
  });
});

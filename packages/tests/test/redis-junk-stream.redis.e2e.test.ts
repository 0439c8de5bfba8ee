import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type TidewireServer } from '@tidewire/server';
import { websocket } from '@tidewire/core/websocket';
import { createRedisBroker } from '../../redis/src/index';
import { startRedis, type RedisServer } from '../../redis/test/redis-server';
import { openLine } from './helpers/raw-protocol-line';
import { until } from './helpers/servers';

/**
 * One entry in a channel's Redis stream that is not what the broker writes (another process, a
 * partial restore, an older node) — here offset 2 with body `notjson` — and every later message
 * of that channel stops reaching every subscriber of the process, forever, silently: the feed's
 * hole fill (channelFeed.ts #fill → redisBroker #range → codec decodeEntries/decodeBody) throws a
 * SyntaxError, the pump retries every 250 ms with the same result, nothing is logged, and no
 * `unsubscribed`, `error` or gap reaches the client. The protocol's rule for a message that cannot
 * be delivered is the opposite: end the subscription loudly (`unsubscribed {code: server_error}`)
 * or skip with a gap — "never a silent gap".
 */
let redis: RedisServer;
let server: TidewireServer;
let prefix = '';
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
});
beforeEach(() => {
  prefix = `junkstream${++n}`;
  server = createServer({ broker: createRedisBroker({ url: redis.url, prefix, onError: () => {} }), logger: { warn: () => {}, error: () => {} } });
});
afterEach(() => server.close());
afterAll(() => redis.stop({ kill: true }));

const cli = (...args: string[]): string => execFileSync('redis-cli', ['-p', String(redis.port), '--raw', ...args]).toString().trim();

describe('a junk entry in a channel stream', () => {
  it.each([['notjson'], ['5'], ['null']])('body %s: later messages still reach subscribers, or the subscription ends loudly', async (body) => {
    const { url } = await server.listen(0);
    const inProcess: unknown[] = [];
    await server.subscribe('room', (m) => void inProcess.push(m.data), { onGap: () => void inProcess.push('(gap)') });
    const line = await openLine('websocket', url, websocket);
    line.send({ type: 'subscribe', id: 's', channel: 'room' });
    await line.next((f) => f.type === 'subscribed', 'subscribed');
    await server.publish('room', 'm1');
    await line.next((f) => f.type === 'message' && f.offset === 1, 'm1');

    // Another process writes offset 2 the broker cannot read, and moves the head past it.
    cli('XADD', `${prefix}:{room}:stream`, '2-0', 't', String(Date.now()), 'b', body);
    cli('HSET', `${prefix}:{room}:meta`, 's', '2');
    const { offset } = await server.publish('room', 'm3');
    expect(offset).toBe(3);

    await until(
      () => line.frames.some((f) => (f.type === 'message' && f.offset === 3) || (f.type === 'unsubscribed' && f.channel === 'room')) || line.ended !== undefined,
      'the WebSocket subscriber gets m3, or is told its subscription ended',
      8000,
    ).catch(() => {});
    const told = line.frames.filter((f) => (f.type === 'message' && f.offset === 3) || f.type === 'unsubscribed');
    line.close();
    expect(told.length).toBe(1);
    expect(inProcess).toContain('m3');
  });
});

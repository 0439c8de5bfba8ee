import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type TidewireServer } from '@tidewire/server';
import { createRedisBroker } from '../../redis/src/index';
import { startRedis, type RedisServer } from '../../redis/test/redis-server';

/**
 * The relay's answer to a forwarded request arrives over Redis pub/sub (redis/src/sessionRelay.ts)
 * and is written to the waiting client as is (server/src/sessionRelay.ts relayToOwner → sendText →
 * writeHead). Request ids are `<nodeId>:<sequence>` — predictable. An answer that node:http cannot
 * write (a status outside 100–999, a header value with a line feed), from a buggy peer or any
 * process that can publish on Redis, makes writeHead throw inside `void relayToOwner(...)`: an
 * unhandled rejection, which ends a Node process run with the default `--unhandled-rejections=throw`,
 * and the client's request is never answered. Expected: the answer is checked (or the write guarded),
 * the client gets a 502/404, and the process lives.
 */
let redis: RedisServer;
let server: TidewireServer;
let port = 0;
const listeners: ChildProcess[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => void unhandled.push(e);

beforeAll(async () => {
  redis = await startRedis();
  const broker = createRedisBroker({ url: redis.url, prefix: 'rj', onError: () => {} });
  server = createServer({ broker, relay: broker.sessionRelay({ nodeId: 'nodeA' }), logger: { warn: () => {}, error: () => {} } });
  ({ port } = await server.listen(0));
  // "node B": something listens on its inbox (so the forward waits for an answer) but never answers.
  for (const command of ['SUBSCRIBE', 'SSUBSCRIBE']) listeners.push(spawn('redis-cli', ['-p', String(redis.port), command, 'rj:{node:nodeB}:inbox'], { stdio: 'ignore' }));
  await new Promise((r) => setTimeout(r, 500));
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  for (const l of listeners) l.kill();
  await server.close();
  await redis.stop({ kill: true });
});

const cli = (...args: string[]): string => execFileSync('redis-cli', ['-p', String(redis.port), '--raw', ...args]).toString().trim();

function post(path: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.request({ port, host: '127.0.0.1', method: 'POST', path, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.setTimeout(5000, () => {
      req.destroy();
      resolve(undefined);
    });
    req.end('[]');
  });
}

describe('a relayed answer node:http cannot write', () => {
  it.each([
    ['a status out of range', 1, { status: 99999, headers: {}, body: '' }],
    ['a header with a line feed', 2, { status: 200, headers: { 'x-a': 'a\r\nset-cookie: pwned=1' }, body: '' }],
    ['a header value above Latin-1', 3, { status: 200, headers: { 'x-a': 'price: 5 €' }, body: '' }],
    ['a header value with a control character', 4, { status: 200, headers: { 'x-a': 'a\u0001b' }, body: '' }],
  ])('%s: the client gets a 502 and nothing rejects unhandled', async (_name, seq, response) => {
    const before = unhandled.length;
    const answered = post(`/tidewire/poll?sid=nodeB.abcdef`);
    await new Promise((r) => setTimeout(r, 300)); // the forward is waiting for node B
    const junk = JSON.stringify({ t: 'r', id: `nodeA:${seq}`, response });
    cli('PUBLISH', 'rj:{node:nodeA}:inbox', junk);
    try {
      cli('SPUBLISH', 'rj:{node:nodeA}:inbox', junk);
    } catch {
      // Redis < 7
    }
    const status = await answered;
    await new Promise((r) => setTimeout(r, 200));
    expect(unhandled.slice(before).map(String)).toEqual([]);
    expect(status).toBe(502);
  });
});

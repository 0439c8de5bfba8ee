import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createServer, type TidewireServer } from '@tidewire/server';
import { createRedisBroker } from '../../../redis/src/index';
import { startRedis, type RedisServer } from '../../../redis/test/redis-server';

/**
 * Another process writing junk on Tidewire's Redis keys and channels: a private `redis-server` for
 * the file and, per test, a server on a Redis broker of its own key prefix (`<stem><n>`, so each
 * test starts empty), with `cli` (redis-cli against it) and `publishRaw` to write as that process.
 * Call at a test file's top level.
 */
export function useRedisJunk(stem: string) {
  let redis: RedisServer | undefined;
  let n = 0;
  const t = {
    server: undefined as unknown as TidewireServer,
    broker: undefined as unknown as ReturnType<typeof createRedisBroker>,
    prefix: '',
    /** What the broker reported on `onError`. */
    errors: [] as string[],
    cli: (...args: string[]): string => execFileSync('redis-cli', ['-p', String(redis!.port), '--raw', ...args]).toString().trim(),
    /** Sharded where the broker uses sharded pub/sub (Redis 7+), classic otherwise: sent both ways. */
    publishRaw(channel: string, payload: string): void {
      t.cli('PUBLISH', channel, payload);
      try {
        t.cli('SPUBLISH', channel, payload);
      } catch {
        // Redis < 7
      }
    },
  };
  beforeAll(async () => {
    redis = await startRedis();
  });
  beforeEach(() => {
    t.prefix = `${stem}${++n}`;
    t.broker = createRedisBroker({ url: redis!.url, prefix: t.prefix, onError: (e) => void t.errors.push(String(e)) });
    t.server = createServer({ broker: t.broker, logger: { warn: () => {}, error: () => {} } });
  });
  afterEach(() => t.server.close());
  afterAll(() => redis?.stop({ kill: true }));
  return t;
}

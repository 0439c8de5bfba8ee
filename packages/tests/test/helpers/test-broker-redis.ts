import { afterAll } from 'vitest';
import { createRedisBroker } from '../../../redis/src/index';
import { startRedis } from '../../../redis/test/redis-server';
import { closeTestBrokers, useTestBroker } from './test-broker';

/**
 * Run the suites imported after this call on the Redis broker: starts a private `redis-server`
 * (stopped after the file), and gives every test server a broker of its own key prefix
 * (`<prefix>1`, `<prefix>2`, …), so each test starts with empty channels, as it does in memory.
 * @param prefix the key prefix stem of this file's servers
 */
export async function useRedisTestBroker(prefix: string): Promise<void> {
  const redis = await startRedis();
  afterAll(async () => {
    await closeTestBrokers();
    await redis.stop({ kill: true });
  });
  let servers = 0;
  useTestBroker(({ history, dedupe }) =>
    createRedisBroker({
      url: redis.url,
      prefix: `${prefix}${++servers}`,
      history,
      ...(dedupe?.window !== undefined && { dedupe: { ttl: dedupe.window } }),
      onError: () => {},
    }),
  );
}

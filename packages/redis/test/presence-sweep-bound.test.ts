/**
 * docs/scaling.md: "when a node is killed … within about ttl + refresh a surviving node's touch
 * removes them and every watcher on every node gets the leave". One script call sweeps at most
 * SWEEP_BATCH (100) expired members; a refresh whose sweep was full must sweep on at once (short
 * calls), or a killed node with 500 members in one room keeps them listed for 5 refreshes.
 */
import { expect, it } from 'vitest';
import { createRedisBroker } from '../src/index';
import { useRedis } from './redis-server';

const redis = useRedis();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it("a killed node's 500 members of one room are gone for watchers within about ttl + refresh", async () => {
  const presence = { ttl: 2000, refresh: 1000 };
  const dying = createRedisBroker({ url: redis.url, prefix: 'sw', presence, onError: () => {} });
  const survivor = createRedisBroker({ url: redis.url, prefix: 'sw', presence, onError: () => {} });
  await Promise.all([dying.ready(), survivor.ready()]);
  try {
    const left = new Set<string>();
    const watch = await survivor.watchPresence('hall', (e) => {
      if (e.action === 'leave') left.add(e.member.clientId);
    });
    for (let i = 0; i < 500; i++) await dying.enterPresence('hall', { clientId: `m${i}`, user: i });
    await dying.close(); // stops refreshing without leaving: as a SIGKILL would
    // The bound is ttl + refresh after the last refresh; one more refresh of slack for a loaded machine.
    const deadline = Date.now() + presence.ttl + 2 * presence.refresh;
    while (left.size < 500 && Date.now() < deadline) await sleep(100);
    expect(left.size).toBe(500);
    const again = await survivor.watchPresence('hall', () => {});
    expect(again.members).toEqual([]);
    again.unsubscribe();
    watch.unsubscribe();
  } finally {
    await Promise.all([dying.close(), survivor.close()]);
  }
});

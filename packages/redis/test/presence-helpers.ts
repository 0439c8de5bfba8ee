import type { PresenceMember } from '@tidewire/core/protocol';
import type { PresenceEvent } from '@tidewire/server';
import type { RedisBroker } from '../src/index';

/** A member whose user is its id in capitals, with `info` when given. */
export const member = (clientId: string, info?: unknown): PresenceMember => ({ clientId, user: clientId.toUpperCase(), ...(info !== undefined && { info }) });

/** A watcher and the members it believes present: its snapshot with every later change applied. */
export async function watcher(broker: RedisBroker, channel: string) {
  const events: PresenceEvent[] = [];
  const view = new Map<string, PresenceMember>();
  const watch = await broker.watchPresence(channel, (e) => {
    events.push(e);
    if (e.action === 'join') view.set(e.member.clientId, e.member);
    else view.delete(e.member.clientId);
  });
  for (const m of watch.members) view.set(m.clientId, m);
  return { watch, events, ids: () => [...view.keys()].sort(), view, described: () => events.map((e) => `${e.action} ${e.member.clientId}`) };
}

/** Poll an async condition until it holds. */
export async function eventually(predicate: () => Promise<boolean>, what: string, timeout = 15_000): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A connection to run raw commands on (an admin client of the test's redis-server). */
export interface RawCommands {
  sendCommand(args: string[]): Promise<unknown>;
}

/** Redis' clock, ms. */
export async function redisNow(admin: RawCommands): Promise<number> {
  const [seconds, micros] = (await admin.sendCommand(['TIME'])) as [string, string];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * Wait until each of the `count` members of `channel` has had its expiry pushed forward twice
 * after Redis time `since`: every owning node has then run at least two touches after it — after a
 * stall, the one that waited behind it and the next, the first that may sweep.
 */
export async function refreshedTwiceAfter(admin: RawCommands, key: { prefix: string; channel: string; ttl: number; count: number }, since: number): Promise<void> {
  let first = Infinity;
  await eventually(async () => {
    const flat = (await admin.sendCommand(['ZRANGE', `${key.prefix}:{${key.channel}}:presence:exp`, '0', '-1', 'WITHSCORES'])) as string[];
    const scores = flat.filter((_, i) => i % 2 === 1).map(Number);
    if (scores.length !== key.count || Math.min(...scores) <= since + key.ttl) return false;
    first = Math.min(first, Math.max(...scores));
    return Math.min(...scores) > first;
  }, `every member of ${key.channel} refreshed twice`);
}

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

import type { PresenceViewSnapshot, TidewireClient } from '@tidewire/core';
import { PresenceView } from '@tidewire/core';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useTidewire } from './context';
import { describes } from './stale-snapshot';

export interface UsePresenceOptions {
  /** Also appear as a member while mounted. Default false: only read who is there. */
  enter?: boolean;
  /** What the other members see as `member.info` (any JSON); a new value (compared as JSON) re-enters with it. */
  info?: unknown;
  /** `false` holds nothing. Default true. */
  enabled?: boolean;
}

/**
 * Who is in a channel, for as long as the component is mounted (server capability `presence`):
 * `{ channel, status: 'idle' | 'syncing' | 'synced' | 'failed', members, error }`, each member
 * `{ clientId, user, info? }`. With `enter: true` this client appears as a member too (one member
 * however many components enter). SSR-safe: the server render and hydration see `idle` and no
 * members; nothing is opened until mounted. `null` (or `enabled: false`) holds nothing.
 * @param channel - the channel name
 * @param options - `{ enter?, info?, enabled? }`
 * @returns the presence snapshot (a new object only when something changed)
 * @example
 * ```tsx
 * const { members } = usePresence('room:1', { enter: true, info: { name } });
 * return <ul>{members.map((m) => <li key={m.clientId}>{String(m.user)}</li>)}</ul>;
 * ```
 */
export function usePresence(channel: string | null, options: UsePresenceOptions = {}): PresenceViewSnapshot {
  const client = useTidewire();
  const { enter, info, enabled } = options;
  const viewOptions = { channel, enter, info, enabled };
  const create = (c: TidewireClient) => ({ client: c, view: new PresenceView(c, viewOptions) });
  // One view per hook instance (and per client, should the provider's client change).
  const [slot, setSlot] = useState(() => create(client));
  if (slot.client !== client) setSlot(create(client));
  const { view } = slot;
  const infoKey = JSON.stringify(info);
  // `info` by its JSON: an inline object does not re-enter on every render.
  useEffect(() => view.setOptions(viewOptions), [view, channel, enter, enabled, infoKey]);
  const held = useSyncExternalStore(view.subscribe, view.getSnapshot, view.getServerSnapshot);
  // Until the effect gives the view a new name, its snapshot is the old channel's: never shown under the new one.
  return describes(held.channel, channel, enabled) ? held : view.getServerSnapshot();
}

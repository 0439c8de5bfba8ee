import type { PresenceMember, PresenceViewSnapshot, TidewireError } from '@tidewire/core';
import { PresenceView } from '@tidewire/core';
import type { ComputedRef, MaybeRefOrGetter, ShallowRef } from 'vue';
import { computed, toValue, watch } from 'vue';
import { useSnapshot, useTidewire } from './context';

export interface UsePresenceOptions {
  /** Also appear as a member while in scope. Default false: only read who is there. */
  enter?: MaybeRefOrGetter<boolean | undefined>;
  /** What the other members see as `member.info` (any JSON); a new value (compared as JSON) re-enters with it. */
  info?: MaybeRefOrGetter<unknown>;
}

export interface UsePresenceReturn {
  /** Each member once: `{ clientId, user, info? }`. */
  members: ComputedRef<readonly PresenceMember[]>;
  /** `idle` (no channel, or server render) | `syncing` | `synced` | `failed`. */
  status: ComputedRef<PresenceViewSnapshot['status']>;
  /** Why watching or entering was refused (`forbidden`, `unsupported`…). */
  error: ComputedRef<TidewireError | undefined>;
  snapshot: Readonly<ShallowRef<PresenceViewSnapshot>>;
}

/**
 * Who is in a channel, as reactive state (server capability `presence`). `name` may be a ref or
 * getter: a new name switches channel, `null`/`undefined` holds nothing. With `enter` this client
 * appears as a member too (one member however many components enter). SSR-safe: a server render
 * sees `idle` and no members and opens nothing; the scope's end leaves and stops watching.
 * @param name - the channel name (or a ref/getter of it)
 * @param options - `{ enter?, info? }`, each a value, ref or getter
 * @returns `{ members, status, error, snapshot }`
 */
export function usePresence(name: MaybeRefOrGetter<string | null | undefined>, options: UsePresenceOptions = {}): UsePresenceReturn {
  const client = useTidewire();
  const viewOptions = () => ({ channel: toValue(name) ?? null, enter: toValue(options.enter) ?? false, info: toValue(options.info) });
  const view = new PresenceView(client, viewOptions());
  const snapshot = useSnapshot(view, view.getServerSnapshot());
  watch(viewOptions, (next) => view.setOptions(next), { flush: 'sync', deep: true });
  return {
    members: computed(() => snapshot.value.members),
    status: computed(() => snapshot.value.status),
    error: computed(() => snapshot.value.error),
    snapshot,
  };
}

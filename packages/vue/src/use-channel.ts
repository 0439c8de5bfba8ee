import type { ChannelMessage, TidewireClient, ChannelViewSnapshot, GapInfo, PublishResult, StandardSchemaV1, TidewireError } from '@tidewire/core';
import { ChannelView } from '@tidewire/core';
import type { ComputedRef, MaybeRefOrGetter, ShallowRef } from 'vue';
import { computed, shallowRef, toValue, watch } from 'vue';
import { useSnapshot, useTidewire } from './context';

export interface UseChannelOptions<T> {
  /** How many recent messages `messages` keeps. Default 50; 0 keeps none (use `data`). */
  history?: MaybeRefOrGetter<number>;
  /** Subscribe at once. Default true; with false nothing is held until `open()`. */
  immediate?: boolean;
  /** Called once per message, in order (also while the component is not yet mounted). */
  onMessage?: (message: ChannelMessage<T>) => void;
  /** A Standard Schema validator (zod, valibot…): types `T` and validates data at runtime. */
  schema?: StandardSchemaV1<unknown, T>;
  /**
   * Start with (up to) this many stored messages, then live — no gap, no duplicate (server
   * capability `history`): a reloaded page shows the recent past. Applies when this is the first
   * holder of the channel.
   */
  recent?: number;
}

export interface UseChannelReturn<T> {
  /** The latest message's payload. */
  data: ComputedRef<T | undefined>;
  /** Recent messages, oldest first. */
  messages: ComputedRef<readonly ChannelMessage<T>[]>;
  /** `idle` (no channel, closed, or server render) | `subscribing` | `subscribed` | `failed` | `unsubscribed`. */
  status: ComputedRef<ChannelViewSnapshot<T>['status']>;
  /** Set when history could not bridge a disconnection: reload state from your source of truth. */
  gap: ComputedRef<GapInfo | undefined>;
  error: ComputedRef<TidewireError | undefined>;
  snapshot: Readonly<ShallowRef<ChannelViewSnapshot<T>>>;
  /** Resolves with the stored position on the server's ack; rejects with a TidewireError. */
  publish: (data: T) => Promise<PublishResult>;
  /** Hold the subscription (after `immediate: false` or `close()`). */
  open: () => void;
  /** Release the subscription; the refs return to idle. */
  close: () => void;
}

/**
 * One channel as reactive state. `name` may be a ref or getter: a new name switches the
 * subscription, `null`/`undefined` holds none. Components on the same name share one
 * server subscription (reference counting and delivery order live in the core).
 */
export function useChannel<T = unknown>(
  name: MaybeRefOrGetter<string | null | undefined>,
  options: UseChannelOptions<T> = {},
): UseChannelReturn<T> {
  return useChannelOf(useTidewire(), name, options);
}

/** {@link useChannel} on a given client (`useWebSocket(url)` holds its own, outside the plugin). @internal */
export function useChannelOf<T>(client: TidewireClient, name: MaybeRefOrGetter<string | null | undefined>, options: UseChannelOptions<T>): UseChannelReturn<T> {
  const enabled = shallowRef(options.immediate ?? true);
  const viewOptions = () => ({
    channel: toValue(name) ?? null,
    history: toValue(options.history),
    enabled: enabled.value,
    onMessage: options.onMessage,
    schema: options.schema,
    recent: options.recent,
  });
  const view = new ChannelView<T>(client, viewOptions());
  const snapshot = useSnapshot(view, view.getServerSnapshot());
  // A fresh object per run: fires whenever an input changed; setOptions ignores no-ops.
  watch(viewOptions, (next) => view.setOptions(next), { flush: 'sync' });
  return {
    data: computed(() => snapshot.value.last?.data),
    messages: computed(() => snapshot.value.messages),
    status: computed(() => snapshot.value.status),
    gap: computed(() => snapshot.value.gap),
    error: computed(() => snapshot.value.error),
    snapshot,
    publish: (data) => view.publish(data),
    open: () => void (enabled.value = true),
    close: () => void (enabled.value = false),
  };
}

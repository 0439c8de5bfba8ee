import type { ChannelMessage, ChannelViewSnapshot, PublishResult, StandardSchemaV1, TidewireClient } from '@tidewire/core';
import { ChannelView } from '@tidewire/core';
import { useCallback, useEffect, useInsertionEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { useTidewire } from './context';
import { describes } from './stale-snapshot';

export interface UseChannelOptions<T> {
  /** Called once per message, in order. May be an inline function: changing it never resubscribes. */
  onMessage?: (message: ChannelMessage<T>) => void;
  /** How many recent messages `messages` keeps. Default 50; 0 keeps none (use `onMessage`/`last`). */
  history?: number;
  /** `false` holds no subscription. Default true. */
  enabled?: boolean;
  /** A Standard Schema validator (zod, valibot…): types `T` and validates data at runtime. Taken when the channel is acquired: a new object each render is harmless, and a new schema applies from the next channel switch. */
  schema?: StandardSchemaV1<unknown, T>;
  /**
   * Start with (up to) this many stored messages, then live — no gap, no duplicate (server
   * capability `history`): a reloaded page shows the recent past. Applies when this hook is the
   * first to hold the channel.
   */
  recent?: number;
}

export interface UseChannelResult<T> extends ChannelViewSnapshot<T> {
  /** Publish to this channel; resolves with the stored position, rejects with a TidewireError. Stable identity. */
  publish: (data: T) => Promise<PublishResult>;
}

/**
 * Subscribe to a channel for as long as the component is mounted. Components on the
 * same name share one subscription; `null` (or `enabled: false`) holds none.
 */
export function useChannel<T = unknown>(channel: string | null, options: UseChannelOptions<T> = {}): UseChannelResult<T> {
  const client = useTidewire();
  const { history, enabled, schema, recent } = options;
  const onMessage = useRef(options.onMessage);
  useInsertionEffect(() => {
    onMessage.current = options.onMessage;
  });
  const viewOptions = { channel, history, enabled, schema, recent, onMessage: (m: ChannelMessage<T>) => onMessage.current?.(m) };
  const create = (c: TidewireClient) => ({ client: c, view: new ChannelView<T>(c, viewOptions) });
  // One view per hook instance (and per client, should the provider's client change).
  const [slot, setSlot] = useState(() => create(client));
  if (slot.client !== client) setSlot(create(client)); // React re-renders at once with the new view
  const { view } = slot;
  useEffect(() => view.setOptions(viewOptions), [view, channel, history, enabled, schema]);
  const held = useSyncExternalStore(view.subscribe, view.getSnapshot, view.getServerSnapshot);
  // The view takes a new name in the effect, after the render that brought it: until then its snapshot
  // is still the old channel's, which this render must not show under the new name (react.md).
  const snapshot = describes(held.channel, channel, enabled) ? held : view.getServerSnapshot();
  const publish = useCallback((data: T) => view.publish(data), [view]);
  return useMemo(() => ({ ...snapshot, publish }), [snapshot, publish]);
}

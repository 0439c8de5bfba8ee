import type { TidewireClient, ConnectionSnapshot, ConnectionStateName, PublishResult, TidewireError, TransportName } from '@tidewire/core';
import { createClient, resolveRenderUrl } from '@tidewire/core';
import type { ComputedRef, MaybeRefOrGetter, ShallowRef } from 'vue';
import { computed, onScopeDispose } from 'vue';
import type { TidewireOptions } from './context';
import { isServer, useSnapshot, useTidewire } from './context';
import { useChannelOf } from './use-channel';

export interface UseWebSocketOptions {
  /**
   * Connect now rather than on the first channel use. Default: false with the plugin's client
   * (it connects lazily), true with a `url` (as VueUse's `useWebSocket`).
   */
  immediate?: boolean;
  /**
   * The channel that `data` shows the latest message of and that `send` publishes to (a ref or
   * getter switches it). Without it `data` stays undefined and `send` rejects.
   */
  channel?: MaybeRefOrGetter<string | null | undefined>;
}

/** `useWebSocket(url, options)`: the options of the composable plus those of the client it creates (`transports`, `token`, …). */
export interface UseWebSocketUrlOptions extends UseWebSocketOptions, Omit<TidewireOptions, 'url'> {
  /** Close the client when the calling scope (component, effectScope) ends. Default true. */
  autoClose?: boolean;
}

export interface UseWebSocketReturn<T = unknown> {
  /** `idle` | `connecting` | `connected` | `reconnecting` | `closed` | `failed` (VueUse's `OPEN` is `connected`). */
  status: ComputedRef<ConnectionStateName>;
  /** The transport in use or being tried; undefined while idle, closed or failed. */
  transport: ComputedRef<TransportName | undefined>;
  /** Why the line is down (`reconnecting`, `failed`). */
  error: ComputedRef<TidewireError | undefined>;
  /** The whole core snapshot (attempt, retryIn, transportReason, session…). */
  snapshot: Readonly<ShallowRef<ConnectionSnapshot>>;
  /** The latest message's payload on `options.channel` (each delivered once, in order, across reconnects). */
  data: ComputedRef<T | undefined>;
  /**
   * Publish `data` to `options.channel`; resolves with the stored position on the server's ack.
   * @throws (rejects) a `TidewireError` as `publish` does; a `TypeError` when no `channel` was given
   */
  send: (data: T) => Promise<PublishResult>;
  open: () => void;
  /** Close for good (pending publishes reject with `closed`); `open()` reconnects. */
  close: () => void;
  publish: (channel: string, data: unknown) => Promise<PublishResult>;
  client: TidewireClient;
}

const IDLE: ConnectionSnapshot = { state: 'idle' };

/**
 * The connection as reactive state.
 *
 * - `useWebSocket(options?)`: the app's one client from the plugin (`createTidewire`) or
 *   `provideTidewire`; any number of calls share it.
 * - `useWebSocket(url, options?)`: standalone, as in VueUse — no plugin needed. It creates its own
 *   client for `url` (absolute or relative to the page; client options such as `transports` go in
 *   `options`), connects at once unless `immediate: false`, and closes it when the scope ends
 *   unless `autoClose: false`. Descendants can share it with `provideTidewire(ws.client)`.
 *
 * @param url the Tidewire endpoint for a standalone client (e.g. `/tidewire`)
 * @param options `immediate`, `channel` (for `data` and `send`); with a url also `autoClose` and client options
 * @returns reactive `status`, `transport`, `error`, `data`, and `send`, `publish`, `open`, `close`, `client`
 * @example
 * ```ts
 * const { status, data, send } = useWebSocket<Tick>('/tidewire', { channel: 'ticks', transports: [sse()] });
 * ```
 */
export function useWebSocket<T = unknown>(options?: UseWebSocketOptions): UseWebSocketReturn<T>;
export function useWebSocket<T = unknown>(url: string, options?: UseWebSocketUrlOptions): UseWebSocketReturn<T>;
export function useWebSocket<T = unknown>(urlOrOptions?: string | UseWebSocketOptions, urlOptions: UseWebSocketUrlOptions = {}): UseWebSocketReturn<T> {
  const standalone = typeof urlOrOptions === 'string';
  const options: UseWebSocketOptions = standalone ? urlOptions : (urlOrOptions ?? {});
  let client: TidewireClient;
  if (standalone) {
    const { immediate: _immediate, channel: _channel, autoClose, ...clientOptions } = urlOptions;
    client = createClient({ ...clientOptions, url: resolveRenderUrl(urlOrOptions) });
    if (autoClose ?? true) onScopeDispose(() => client.close());
  } else {
    client = useTidewire();
  }
  const snapshot = useSnapshot(client, IDLE);
  if ((options.immediate ?? standalone) && !isServer()) client.connect();
  // history 0: only the latest message is kept, as VueUse's `data` is.
  const channel = options.channel === undefined ? undefined : useChannelOf<T>(client, options.channel, { history: 0 });
  return {
    status: computed(() => snapshot.value.state),
    transport: computed(() => snapshot.value.transport),
    error: computed(() => snapshot.value.error),
    snapshot,
    data: channel ? channel.data : computed(() => undefined),
    send: (data) => (channel ? channel.publish(data) : Promise.reject(new TypeError('[tidewire] useWebSocket: send() needs the `channel` option'))),
    open: () => client.connect(),
    close: () => client.close(),
    publish: (name, data) => client.publish(name, data),
    client,
  };
}

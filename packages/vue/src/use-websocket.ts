import type { Client, ConnectionSnapshot, ConnectionStateName, PublishResult, TidewireError, TransportName } from '@tidewire/core';
import type { ComputedRef, ShallowRef } from 'vue';
import { computed } from 'vue';
import { isServer, useSnapshot, useTidewire } from './context';

export interface UseWebSocketOptions {
  /** Connect now rather than on the first channel use. Default false (the client connects lazily). */
  immediate?: boolean;
}

export interface UseWebSocketReturn {
  /** `idle` | `connecting` | `connected` | `reconnecting` | `closed` | `failed`. */
  status: ComputedRef<ConnectionStateName>;
  /** The transport in use or being tried; undefined while idle, closed or failed. */
  transport: ComputedRef<TransportName | undefined>;
  /** Why the line is down (`reconnecting`, `failed`). */
  error: ComputedRef<TidewireError | undefined>;
  /** The whole core snapshot (attempt, retryIn, transportReason, session…). */
  snapshot: Readonly<ShallowRef<ConnectionSnapshot>>;
  open: () => void;
  /** Close for good (pending publishes reject with `closed`); `open()` reconnects. */
  close: () => void;
  publish: (channel: string, data: unknown) => Promise<PublishResult>;
  client: Client;
}

const IDLE: ConnectionSnapshot = { state: 'idle' };

/** The connection as reactive state. Any number of calls share the app's one client. */
export function useWebSocket(options: UseWebSocketOptions = {}): UseWebSocketReturn {
  const client = useTidewire();
  const snapshot = useSnapshot(client, IDLE);
  if (options.immediate && !isServer()) client.connect();
  return {
    status: computed(() => snapshot.value.state),
    transport: computed(() => snapshot.value.transport),
    error: computed(() => snapshot.value.error),
    snapshot,
    open: () => client.connect(),
    close: () => client.close(),
    publish: (channel, data) => client.publish(channel, data),
    client,
  };
}

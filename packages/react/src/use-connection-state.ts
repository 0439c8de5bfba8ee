import type { ConnectionSnapshot } from '@tidewire/core';
import { useSyncExternalStore } from 'react';
import { useTidewire } from './context';

/** The connection's state, transport, attempt and error; `idle` on the server and until first use. */
export function useConnectionState(): ConnectionSnapshot {
  const client = useTidewire();
  // The server snapshot is the client's own: a client that was never used is `idle`.
  return useSyncExternalStore(client.subscribe, client.getSnapshot, client.getSnapshot);
}

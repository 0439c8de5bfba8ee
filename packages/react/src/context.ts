import type { TidewireClient } from '@tidewire/core';
import { createContext, useContext } from 'react';

export const TidewireContext = createContext<TidewireClient | null>(null);

/** The client from the nearest `<TidewireProvider>` (a private or a shared one). Throws outside one. */
export function useTidewire(): TidewireClient {
  const client = useContext(TidewireContext);
  if (!client) throw new Error('useTidewire: wrap your app in <TidewireProvider client={…}> or <TidewireProvider options={…}>');
  return client;
}

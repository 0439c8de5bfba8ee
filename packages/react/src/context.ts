import type { Client } from '@tidewire/core';
import { createContext, useContext } from 'react';

export const TidewireContext = createContext<Client | null>(null);

/** The client from the nearest `<TidewireProvider>`. Throws outside one. */
export function useTidewire(): Client {
  const client = useContext(TidewireContext);
  if (!client) throw new Error('useTidewire: wrap your app in <TidewireProvider client={…}> or <TidewireProvider options={…}>');
  return client;
}

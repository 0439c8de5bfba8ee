import type { ClientOptions, TidewireClient } from '@tidewire/core';
import { createClient, resolveRenderUrl } from '@tidewire/core';
import type { ReactNode } from 'react';
import { useEffect, useRef, useState } from 'react';
import { TidewireContext } from './context';

export type TidewireProviderProps = { children?: ReactNode } & (
  | { /** A client you own — `createClient(…)` or `createSharedClient(…)` from `@tidewire/core/shared` (create it outside React; you close it). */ client: TidewireClient; options?: undefined }
  | { /** Options for a client the provider creates lazily and closes on unmount. */ options: ClientOptions; client?: undefined }
);

/**
 * Puts a Tidewire client in context. Creating a client opens nothing: the connection
 * starts on first channel use, in an effect, so SSR and StrictMode stay clean.
 */
export function TidewireProvider({ client, options, children }: TidewireProviderProps) {
  // Created once per provider; a client that is never used holds no socket or timer. With an
  // outboxStorage, a client would connect by itself once it read stored publishes — also the one
  // StrictMode's second initializer call discards, which nothing closes: it waits (`lazy: false`)
  // for the effect of the one that is kept to connect it.
  const sends = options?.outboxStorage !== undefined && options.lazy !== false;
  const [owned] = useState(() => (client ? undefined : createClient({ ...options!, url: resolveRenderUrl(options!.url), ...(sends && { lazy: false }) })));
  const closing = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => {
    if (!owned) return;
    // Close a tick late, so StrictMode's unmount/remount keeps the one connection.
    clearTimeout(closing.current);
    if (sends) owned.connect();
    return () => {
      closing.current = setTimeout(() => owned.close());
    };
  }, [owned, sends]);
  return <TidewireContext.Provider value={client ?? owned!}>{children}</TidewireContext.Provider>;
}

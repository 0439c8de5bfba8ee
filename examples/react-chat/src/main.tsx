import { createClient } from '@tidewire/core';
import type { TidewireClient } from '@tidewire/core';
import { indexedDbOutbox } from '@tidewire/core/idb';
import { createSharedClient } from '@tidewire/core/shared';
import { TidewireProvider } from '@tidewire/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';

const url = new URL('/tidewire', location.href).toString();
// Messages typed offline are kept in IndexedDB until acknowledged: a reload (or a crash) before the
// line is back does not lose them — the next start sends them first, with their ids (stored once).
const outboxStorage = indexedDbOutbox('tidewire-chat');

// `?share=1`: every tab of this origin shares one connection — held by a SharedWorker
// (tidewire.worker.ts), or by one tab elected with Web Locks where there is no SharedWorker
// (Safari iOS, Android Chrome). The hooks take either client. Without it, each tab has its own.
const shared = new URLSearchParams(location.search).get('share') === '1';

// The connection lives outside React, on this page's own origin. Nothing opens until a
// component uses a channel; StrictMode's double mount still makes one connection.
const client: TidewireClient = shared
  ? createSharedClient({
      url,
      outboxStorage, // used when this tab is the leader (no SharedWorker); the worker has its own
      worker: () => new SharedWorker(new URL('./tidewire.worker.ts', import.meta.url), { type: 'module', name: 'tidewire-chat' }),
    })
  : createClient({ url, outboxStorage });

// Hot reload replaces this module: close the old client instead of leaking its socket.
import.meta.hot?.dispose(() => client.close());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <TidewireProvider client={client}>
      <App />
    </TidewireProvider>
  </StrictMode>,
);

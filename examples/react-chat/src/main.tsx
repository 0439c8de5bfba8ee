import { createClient } from '@tidewire/core';
import { indexedDbOutbox } from '@tidewire/core/idb';
import { TidewireProvider } from '@tidewire/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';

// The connection lives outside React, on this page's own origin. Nothing opens until a
// component uses a channel; StrictMode's double mount still makes one connection.
// Messages typed offline are kept in IndexedDB until acknowledged: a reload (or a crash) before the
// line is back does not lose them — the next start sends them first, with their ids (stored once).
const client = createClient({ url: new URL('/tidewire', location.href).toString(), outboxStorage: indexedDbOutbox('tidewire-chat') });

// Hot reload replaces this module: close the old client instead of leaking its socket.
import.meta.hot?.dispose(() => client.close());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <TidewireProvider client={client}>
      <App />
    </TidewireProvider>
  </StrictMode>,
);

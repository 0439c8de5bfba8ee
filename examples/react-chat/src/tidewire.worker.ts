// The SharedWorker that holds the chat's one connection when the page runs with `?share=1`
// (see main.tsx): every tab of the origin talks to it, so ten open tabs are one socket. The
// outbox lives here too — IndexedDB, the same database a private client would use — so a
// message typed offline survives closing every tab.
import { serveSharedConnection } from '@tidewire/core/shared-worker';
import { indexedDbOutbox } from '@tidewire/core/idb';

serveSharedConnection({ url: '/tidewire', outboxStorage: indexedDbOutbox('tidewire-chat') });

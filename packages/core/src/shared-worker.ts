import type { ClientOptions } from './client';
import { resolveUrl } from './resolve-url';
import { whenTabGone } from './shared-link';
import { SharedLeader } from './shared-leader';
import type { LeaderMessage, TabMessage } from './shared-messages';
import { postClonable } from './shared-messages';

export type { ClientOptions } from './client';

/** The part of a SharedWorker's global scope this module uses. */
interface SharedWorkerScope {
  addEventListener(type: 'connect', listener: (event: MessageEvent) => void): void;
  readonly navigator?: { readonly locks?: LockManager };
}

/**
 * Run the shared connection in this SharedWorker (`@tidewire/core/shared-worker`): call it at the
 * top of the worker script, with the client's options (`transports`, `getToken`, `outboxStorage`…
 * — functions cannot be sent to a worker, so the worker creates its client itself). Tabs reach it
 * with `createSharedClient({ url, worker: () => new SharedWorker(…) })`. The connection opens with
 * the first tab's first use and lives until the browser ends the worker (after the last tab closed).
 * A tab that goes away without a word (crash, discard) is noticed through its Web Lock.
 * @param options `createClient`'s options; a relative `url` is resolved against the worker script's
 *   location (same origin as the pages).
 * @returns a function that stops serving and closes the connection (for tests).
 * @throws {TidewireError} `invalid_options` when `url` is not a URL.
 * @example
 * ```ts
 * // tidewire.worker.ts — the pages create it with
 * // new SharedWorker(new URL('./tidewire.worker.ts', import.meta.url), { type: 'module', name: 'tidewire' })
 * import { serveSharedConnection } from '@tidewire/core/shared-worker';
 * import { sse } from '@tidewire/core/sse';
 * import { websocket } from '@tidewire/core';
 * serveSharedConnection({ url: '/tidewire', transports: [websocket(), sse()] });
 * ```
 */
export function serveSharedConnection(options: ClientOptions, scope: SharedWorkerScope = globalThis as unknown as SharedWorkerScope): () => void {
  const ports = new Set<MessagePort>();
  const out = (message: LeaderMessage): void => {
    for (const port of ports) postClonable((m) => port.postMessage(m), message);
  };
  // No takeover to collect for: the worker is the only holder for its whole life.
  const leader = new SharedLeader({ ...options, url: resolveUrl(options.url) }, out, 0);
  const seen = new Set<string>();
  scope.addEventListener('connect', (event) => {
    const port = event.ports[0]!;
    ports.add(port);
    port.onmessage = (e: MessageEvent<TabMessage>) => {
      const message = e.data;
      if (message.t === 'alive' && !seen.has(message.tab)) {
        const tab = message.tab;
        seen.add(tab);
        whenTabGone(scope.navigator?.locks, tab, () => {
          ports.delete(port);
          leader.handle({ t: 'bye', tab });
        });
      }
      if (message.t === 'bye') ports.delete(port);
      leader.handle(message);
    };
    port.start();
  });
  return () => {
    leader.stop();
    ports.clear();
  };
}

import type { TransportName } from './transport';

/**
 * Where the client remembers which transport last worked for an endpoint, so the next
 * client (or the next page load, with a storage-backed implementation) starts there.
 */
export interface TransportMemory {
  get(url: string): TransportName | string | null | undefined;
  set(url: string, transport: TransportName): void;
}

const remembered = new Map<string, TransportName>();

/** The default: remembered for the life of this JavaScript realm. */
export const inMemoryTransportMemory: TransportMemory = {
  get: (url) => remembered.get(url),
  set: (url, transport) => void remembered.set(url, transport),
};

/**
 * Backed by Web Storage (e.g. `localStorage`), so the choice survives a reload.
 * @param storage - where to keep it (`localStorage`, `sessionStorage`, or anything with `getItem`/`setItem`).
 * @param prefix - key prefix; the key is `prefix + url`. Default `'tidewire:transport:'`.
 * @returns a TransportMemory for `createClient({ transportMemory })`.
 * @example
 * ```ts
 * createClient({ url, transports: [websocket(), sse(), longpoll()], transportMemory: storageTransportMemory(localStorage) });
 * ```
 */
export function storageTransportMemory(storage: Pick<Storage, 'getItem' | 'setItem'>, prefix = 'tidewire:transport:'): TransportMemory {
  return {
    get: (url) => storage.getItem(prefix + url),
    set: (url, transport) => storage.setItem(prefix + url, transport),
  };
}

/**
 * Web Locks for one JavaScript realm, for tests and for runtimes without `navigator.locks`
 * (Node): several shared clients in one process, each given the same instance, elect a leader
 * among themselves as tabs do. Exclusive locks only; requests of one name are granted in order.
 * @returns a LockManager to pass as `createSharedClient({ locks, BroadcastChannel })`
 * @example
 * ```ts
 * import { BroadcastChannel } from 'node:worker_threads';
 * import { createSharedClient, inProcessLocks } from '@tidewire/core/shared';
 * const locks = inProcessLocks();
 * const tab = () => createSharedClient({ url, mode: 'leader', locks, BroadcastChannel: BroadcastChannel as unknown as typeof globalThis.BroadcastChannel });
 * const [a, b] = [tab(), tab()]; // one connection
 * ```
 */
export function inProcessLocks(): LockManager {
  const tails = new Map<string, Promise<unknown>>();
  const request = (name: string, ...rest: unknown[]): Promise<unknown> => {
    const callback = rest.at(-1) as (lock: Lock) => unknown;
    const granted = (tails.get(name) ?? Promise.resolve()).then(() => callback({ name, mode: 'exclusive' }));
    const tail = granted.catch(() => {});
    tails.set(name, tail);
    void tail.then(() => {
      if (tails.get(name) === tail) tails.delete(name);
    });
    return granted;
  };
  return { request, query: async () => ({ held: [], pending: [] }) } as unknown as LockManager;
}

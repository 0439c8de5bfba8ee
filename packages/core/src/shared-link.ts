import type { LeaderMessage, TabMessage } from './shared-messages';

/**
 * How a tab reaches the holder of the shared connection: a leader tab elected with Web Locks
 * (`shared-election.ts`) or a SharedWorker (`shared-worker-link.ts`). The tab's client is the same
 * over both: it sends {@link TabMessage}s and receives every {@link LeaderMessage}.
 */
export interface SharedLink {
  /** To the holder of the connection. */
  send(message: TabMessage): void;
  /** Whether this tab holds the connection itself (always false with a SharedWorker). */
  readonly isLeader: boolean;
  /** The tab leaves: a leader tab closes the connection and frees its lock. */
  close(): void;
}

/** What a link calls on its tab: every message from the holder, in order. */
export type Receive = (message: LeaderMessage) => void;

/**
 * Keep a Web Lock named after the tab for as long as the tab lives: the holder of the connection
 * asks for the same lock and is granted it once the tab is gone — closed, crashed or discarded
 * without a word — and drops that tab's subscriptions and memberships.
 * @param locks the tab's `navigator.locks`
 * @param tab the tab's id
 * @param held called once the lock is held: only then may the holder ask for it (asked earlier,
 *   it could be granted to the holder first — requests from two contexts race)
 * @returns a function that frees the lock
 */
export function holdTabLock(locks: LockManager, tab: string, held: () => void): () => void {
  let release = (): void => {};
  void locks
    .request(tabLockName(tab), () => {
      held();
      return new Promise<void>((done) => (release = done));
    })
    .catch(() => {});
  return () => release();
}

/** Call `gone` once the tab holding {@link holdTabLock}'s lock has ended. */
export function whenTabGone(locks: LockManager | undefined, tab: string, gone: () => void): void {
  void locks?.request(tabLockName(tab), () => gone()).catch(() => {});
}

const tabLockName = (tab: string): string => `tidewire-tab:${tab}`;

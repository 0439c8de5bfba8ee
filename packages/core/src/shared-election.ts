import type { ClientOptions } from './client';
import type { Receive, SharedLink } from './shared-link';
import { whenTabGone } from './shared-link';
import { SharedLeader } from './shared-leader';
import type { LeaderMessage, TabMessage } from './shared-messages';
import { isTabMessage, postClonable } from './shared-messages';

/** What {@link LeaderElection} needs: the lock and channel names, and the platform's implementations. */
export interface ElectionOptions {
  readonly name: string;
  readonly locks: LockManager;
  readonly BroadcastChannel: typeof BroadcastChannel;
  /** The options the leader's real client is created with. */
  readonly client: ClientOptions;
  /** After a takeover, ms the new leader collects the tabs' positions before resubscribing. */
  readonly takeoverWindow: number;
}

/**
 * The link where there is no SharedWorker: the tab holding a Web Lock (the leader) runs the real
 * client, the others talk to it over a BroadcastChannel. When the leader tab closes, crashes or
 * freezes, the next tab in the lock's queue takes over.
 */
export class LeaderElection implements SharedLink {
  readonly #options: ElectionOptions;
  readonly #bus: BroadcastChannel;
  readonly #receive: Receive;
  #leader: SharedLeader | undefined;
  #releaseLock: (() => void) | undefined;
  /** Whether this tab has a lock request granted or waiting. */
  #queued = false;
  #closed = false;
  /** Tabs the leader watches for going away without a `bye` (by their tab locks). */
  readonly #watched = new Set<string>();

  constructor(options: ElectionOptions, receive: Receive) {
    this.#options = options;
    this.#receive = receive;
    this.#bus = new options.BroadcastChannel(options.name);
    this.#bus.onmessage = (event: MessageEvent<LeaderMessage | TabMessage>) => {
      const message = event.data;
      if (this.#leader && isTabMessage(message)) this.#lead(message);
      else if (!isTabMessage(message)) this.#receive(message);
    };
    this.#campaign();
    // A frozen leader would hold the lock (and the connection) while serving nobody: it steps down
    // on `freeze` (Page Lifecycle), so the next tab takes over, and queues again on `resume`.
    globalThis.document?.addEventListener('freeze', () => this.#stepDown());
    globalThis.document?.addEventListener('resume', () => this.#campaign());
  }

  get isLeader(): boolean {
    return this.#leader !== undefined;
  }

  send(message: TabMessage): void {
    if (this.#closed) return;
    if (this.#leader) this.#lead(message);
    else postClonable((m) => this.#bus.postMessage(m), message);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stepDown();
    this.#bus.close();
  }

  #lead(message: TabMessage): void {
    const leader = this.#leader!;
    const tab = message.t === 'alive' ? message.tab : undefined;
    if (tab && !this.#watched.has(tab)) {
      this.#watched.add(tab);
      whenTabGone(this.#options.locks, tab, () => {
        this.#watched.delete(tab);
        if (this.#leader === leader) leader.handle({ t: 'bye', tab });
      });
    }
    leader.handle(message);
  }

  /** Queue for the lock: granted at once to the first tab, else when the leader closes, crashes or freezes. */
  #campaign(): void {
    if (this.#queued || this.#closed) return;
    this.#queued = true;
    const { locks, name, client, takeoverWindow } = this.#options;
    void locks
      .request(name, () => {
        if (this.#closed) return;
        this.#watched.clear();
        this.#leader = new SharedLeader(client, (m) => this.#broadcast(m), takeoverWindow);
        return new Promise<void>((release) => (this.#releaseLock = release));
      })
      .catch(() => {})
      .finally(() => (this.#queued = false));
  }

  /** Close the connection and free the lock (the next tab in its queue takes over). */
  #stepDown(): void {
    this.#leader?.stop();
    this.#leader = undefined;
    this.#releaseLock?.();
    this.#releaseLock = undefined;
  }

  /** From the leader in this tab: to the other tabs and to this one. */
  #broadcast(message: LeaderMessage): void {
    if (this.#closed) return;
    postClonable((m) => this.#bus.postMessage(m), message);
    this.#receive(message);
  }
}

import type { PresenceMember } from '@tidewire/core/protocol';
import type { PresenceEvent, PresenceListener, PresenceWatch } from '@tidewire/server';

/**
 * A presence change as published by the presence script: the incarnation of the channel's
 * presence keys (random, new after they were lost: see presenceScript.ts), its version in that
 * incarnation, then the event.
 */
export interface VersionedChange {
  readonly incarnation: string;
  readonly version: number;
  readonly event: PresenceEvent;
}

/** The channel's members as Redis holds them, read in one script call. */
export interface PresenceSnapshot {
  /** '' when the keys had no change since they were last lost (version 0). */
  readonly incarnation: string;
  readonly version: number;
  readonly members: readonly PresenceMember[];
}

/**
 * A member as the presence script stores it (JSON of `{ clientId, user, info? }`), or undefined for
 * anything else another writer put there: such an entry is left out, never handed to watchers.
 */
export function decodeMember(json: string): PresenceMember | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  const ok = typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { clientId?: unknown }).clientId === 'string';
  return ok ? (value as PresenceMember) : undefined;
}

/** A notification `<incarnation>:<version>:<j|l>:<member JSON>` → the change, or undefined for anything else. */
export function decodeChange(payload: string): VersionedChange | undefined {
  const first = payload.indexOf(':');
  const second = payload.indexOf(':', first + 1);
  const incarnation = payload.slice(0, first);
  const digits = payload.slice(first + 1, second);
  const version = Number(digits);
  const action = payload.slice(second + 1, second + 3);
  if (first < 1 || second < 0 || !/^\d+$/.test(digits) || !Number.isSafeInteger(version) || (action !== 'j:' && action !== 'l:')) return undefined;
  const member = decodeMember(payload.slice(second + 3));
  return member && { incarnation, version, event: { action: action === 'j:' ? 'join' : 'leave', member } };
}

/**
 * One channel's members as this process sees them, and the watchers told about changes. Pub/sub
 * carries every change with its version; the feed applies the next version of the incarnation it
 * holds (a version of another incarnation is never equal, however the numbers compare), drops older ones
 * (published before its snapshot was read) and, on a hole (a change lost while the pub/sub
 * connection was down) or when a periodic check finds Redis at another version, re-reads the
 * members and tells watchers the difference as joins and leaves. So a watcher's view is never
 * stale for longer than one refresh interval, and it never sees a change twice. As a safety net
 * it also drops what would change nothing: a `join` of a member already listed with the same
 * content, a `leave` of one not listed (the view still moves to their version).
 *
 * Every mutation and its notification happen in one synchronous step, so `watch()` (copy the
 * members, register) is atomic with respect to changes, as in the memory broker.
 */
export class PresenceFeed {
  readonly #read: () => Promise<PresenceSnapshot>;
  readonly #members = new Map<string, PresenceMember>();
  readonly #watchers = new Set<{ readonly listener: PresenceListener }>();
  /** -1 until the first snapshot. */
  #version = -1;
  #incarnation = '';
  /** A snapshot is being read: changes wait in `#early` (the snapshot may or may not contain them). */
  #syncing = false;
  #early: VersionedChange[] = [];
  #chain: Promise<void> = Promise.resolve();
  #queued: Promise<void> | undefined;
  readonly #started: Promise<void>;

  /** @param read the channel's members and version, from Redis (rejects while Redis is away) */
  constructor(read: () => Promise<PresenceSnapshot>) {
    this.#read = read;
    this.#started = this.#requestResync();
    this.#started.catch(() => {});
  }

  /** Resolves once the first snapshot is in; rejects (typed) if Redis could not be read. */
  started(): Promise<void> {
    return this.#started;
  }

  /** A pub/sub notification. */
  change(change: VersionedChange): void {
    if (this.#syncing || this.#version < 0) return void this.#early.push(change);
    if (change.incarnation === this.#incarnation && change.version === this.#version + 1) return this.#apply(change);
    // A hole, or another incarnation (the keys were lost and the counter restarted): re-read; if
    // Redis is away, the next check retries.
    this.#early.push(change);
    this.#requestResync().catch(() => {});
  }

  /** Redis is at `version` of `incarnation` (a periodic touch): re-read if this process's view is another. */
  check(incarnation: string, version: number): Promise<void> {
    if (incarnation === this.#incarnation && version === this.#version && !this.#syncing) return Promise.resolve();
    return this.#requestResync();
  }

  /**
   * Re-read the members whatever the versions say: after the pub/sub subscription was lost and
   * made again (a reconnect, a Cluster slot that moved), changes may have been missed.
   */
  resync(): Promise<void> {
    return this.#requestResync();
  }

  /** The members now, and every change after them to `listener`. */
  watch(listener: PresenceListener): PresenceWatch {
    // Its own object, so the same function watching twice is two entries, each removed by its own unsubscribe.
    const watcher = { listener };
    this.#watchers.add(watcher);
    return { members: [...this.#members.values()], unsubscribe: () => void this.#watchers.delete(watcher) };
  }

  get watcherCount(): number {
    return this.#watchers.size;
  }

  close(): void {
    this.#watchers.clear();
    this.#early = [];
  }

  /** One re-read at a time; requests made before it starts share it. Changes wait meanwhile. */
  #requestResync(): Promise<void> {
    if (this.#queued) return this.#queued;
    this.#syncing = true;
    const queued = this.#chain.then(() => {
      this.#queued = undefined;
      return this.#resync();
    });
    this.#queued = queued;
    this.#chain = queued.catch(() => {});
    return queued;
  }

  /** Re-read the members; tell watchers what changed since their view, then replay the changes that came meanwhile. */
  async #resync(): Promise<void> {
    let snapshot: PresenceSnapshot;
    try {
      snapshot = await this.#read();
    } catch (e) {
      this.#syncing = false;
      this.#early = []; // the view stays at its version; the next check sees the difference
      throw e;
    }
    const next = new Map(snapshot.members.map((m) => [m.clientId, m]));
    for (const [clientId, member] of this.#members) {
      if (!next.has(clientId)) this.#apply({ incarnation: snapshot.incarnation, version: snapshot.version, event: { action: 'leave', member } });
    }
    for (const member of next.values()) this.#apply({ incarnation: snapshot.incarnation, version: snapshot.version, event: { action: 'join', member } });
    this.#version = snapshot.version;
    this.#incarnation = snapshot.incarnation;
    this.#syncing = false;
    const early = this.#early;
    this.#early = [];
    for (const change of early) if (change.incarnation === this.#incarnation && change.version > this.#version) this.change(change);
    // A change of another incarnation came while reading: the keys may have been lost after the read.
    if (early.some((c) => c.incarnation !== this.#incarnation)) this.#requestResync().catch(() => {});
  }

  /** Move to `version`; update the members and tell the watchers, unless the change changes nothing. */
  #apply({ version, event }: VersionedChange): void {
    this.#version = version;
    const { clientId } = event.member;
    const known = this.#members.get(clientId);
    if (event.action === 'join') {
      if (known && sameMember(known, event.member)) return;
      this.#members.set(clientId, event.member);
    } else {
      if (!known) return;
      this.#members.delete(clientId);
    }
    for (const { listener } of this.#watchers) {
      try {
        listener(event);
      } catch {
        // One broken watcher must not stop the others.
      }
    }
  }
}

/** Same content: both come from the same JSON text (Redis keeps the member as its node stringified it). */
function sameMember(a: PresenceMember, b: PresenceMember): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

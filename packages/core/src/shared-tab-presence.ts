import type { TidewireError } from './errors';
import type { ReportError } from './isolate';
import { callSafely } from './isolate';
import type { PresenceEvents, PresenceMember, PresenceSnapshot } from './presence';
import type { WirePresence } from './shared-messages';
import { tabState } from './shared-messages';
import { Store } from './store';

const IDLE: PresenceSnapshot = { state: 'idle', members: [] };

/** What a tab's presence asks of its shared client. */
export interface PresenceLine {
  /** Watch (or stop watching) the channel's members for this tab. */
  watch(on: boolean): void;
  /** Make the connection a member for this tab (the latest info is shown). */
  enter(info: unknown): Promise<void>;
  leave(): void;
}

/**
 * One channel's presence in one tab, shared by the tab's handles on it: it watches while any handle
 * has a listener and is entered while any handle has entered, so the tab counts once in the
 * connection's membership — which every tab shares (the members are the shared connection's).
 */
export class TabPresence extends Store<PresenceSnapshot> {
  readonly #line: PresenceLine;
  readonly #watchers = new Set<object>();
  readonly #entries = new Map<object, unknown>();
  readonly #listeners = new Set<{ readonly event: keyof PresenceEvents; readonly fn: (member: PresenceMember) => void }>();
  readonly #report: ReportError;

  constructor(line: PresenceLine, report: ReportError) {
    super(IDLE, report);
    this.#line = line;
    this.#report = report;
  }

  watch(owner: object): void {
    if (this.#watchers.has(owner)) return;
    this.#watchers.add(owner);
    if (this.#watchers.size === 1) this.#line.watch(true);
  }

  unwatch(owner: object): void {
    if (!this.#watchers.delete(owner) || this.#watchers.size > 0) return;
    this.#line.watch(false);
    this.setSnapshot(IDLE);
  }

  enter(owner: object, info: unknown): Promise<void> {
    this.#entries.delete(owner); // re-inserted last: its info is the newest
    this.#entries.set(owner, info);
    return this.#enter(info);
  }

  /** As a private client's presence: a membership `authorize` refused is forgotten, not entered again by the next holder. */
  #enter(info: unknown): Promise<void> {
    return this.#line.enter(info).catch((error: TidewireError) => {
      if (error.code === 'forbidden' || error.code === 'unknown_channel') this.#entries.clear();
      throw error;
    });
  }

  /** The server ended the connection's membership (`left`): forgotten, as a private client forgets it — not entered again by the next holder. */
  ended(): void {
    this.#entries.clear();
  }

  leave(owner: object): void {
    if (this.#entries.delete(owner) && this.#entries.size === 0) this.#line.leave();
  }

  listen(event: keyof PresenceEvents, fn: (member: PresenceMember) => void): () => void {
    const listener = { event, fn };
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** A new holder of the connection: watch and enter again. */
  announce(): void {
    if (this.#watchers.size > 0) this.#line.watch(true);
    if (this.#entries.size > 0) void this.#enter([...this.#entries.values()].at(-1)).catch(() => {});
  }

  /** The connection's member list changed. */
  update(presence: WirePresence): void {
    if (this.#watchers.size > 0) this.setSnapshot(tabState<PresenceSnapshot>(presence));
  }

  event(event: keyof PresenceEvents, member: PresenceMember): void {
    if (this.#watchers.size === 0) return;
    for (const listener of [...this.#listeners]) if (listener.event === event) callSafely(this.#report, event, {}, listener.fn, member);
  }
}

/**
 * `channel.presence` of a shared client's channel handle: the same surface as a private client's
 * ({@link ChannelPresence}) — `getSnapshot`, `subscribe`, `on('join' | 'leave')`, `enter`, `leave`.
 * The members are the shared connection's: every tab of it is one member (one client id).
 */
export class SharedPresence {
  readonly #store: TabPresence;
  #uses = 0;
  #released = false;

  /** @internal created by `channel.presence` */
  constructor(store: TabPresence) {
    this.#store = store;
  }

  /** The members as the shared connection knows them: `{ state, members, error? }`. */
  getSnapshot = (): PresenceSnapshot => this.#store.getSnapshot();

  /** Call `listener` whenever the snapshot changes; the first listener starts watching. @returns the function that removes it. */
  subscribe = (listener: () => void): (() => void) => this.#use(this.#store.subscribe(listener));

  /** Listen to `join` or `leave` (also starts watching). @returns the function that removes the listener. */
  on<E extends keyof PresenceEvents>(event: E, listener: PresenceEvents[E]): () => void {
    return this.#use(this.#store.listen(event, listener));
  }

  /**
   * Appear as a member (the shared connection's membership; `info` replaces the shown info).
   * @param info what the other members see as `member.info`
   * @returns resolves once the server confirmed
   * @throws (rejects) as a private client's `presence.enter`: `unsupported`, `forbidden`, `closed`…
   */
  enter(info?: unknown): Promise<void> {
    return this.#store.enter(this, info);
  }

  /** Stop being a member for this handle (the connection leaves with the last entered handle of every tab). */
  leave(): void {
    this.#store.leave(this);
  }

  /** @internal the channel handle was released. */
  release(): void {
    this.#released = true;
    this.#store.leave(this);
    this.#store.unwatch(this);
  }

  #use(stop: () => void): () => void {
    if (this.#released) {
      stop();
      return () => {};
    }
    if (++this.#uses === 1) this.#store.watch(this);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      stop();
      if (--this.#uses === 0) this.#store.unwatch(this);
    };
  }
}

import { Timer } from './clock';
import type { TidewireError } from './errors';
import { RequestError } from './errors';
import type { ReportError } from './isolate';
import { callSafely } from './isolate';
import type { PresenceMember, PresenceSnapshotFrame } from './protocol/frames';
import type { PresenceFrame, Requests } from './requests';
import { Store } from './store';

export type { PresenceMember } from './protocol/frames';

/**
 * Who is in a channel, as this client knows it. `idle`: nobody is watching (no listener);
 * `syncing`: waiting for the server's snapshot (first time, or after a reconnect — `members` then
 * still shows the last known list); `synced`: `members` is current; `failed`: refused (`error`:
 * `forbidden`, `unsupported`, …). Immutable; keeps its identity until something changes.
 */
export interface PresenceSnapshot {
  readonly state: 'idle' | 'syncing' | 'synced' | 'failed';
  /** Each member once, by `clientId` (one connection; several handles of one client are one member). */
  readonly members: readonly PresenceMember[];
  readonly error?: TidewireError;
}

/** Presence events: a member `join`ed (or entered again with new `info`) or `leave`s. */
export interface PresenceEvents {
  join: (member: PresenceMember) => void;
  leave: (member: PresenceMember) => void;
}

type Listener = { readonly event_: keyof PresenceEvents; readonly fn_: (member: PresenceMember) => void; readonly report_: ReportError };

const IDLE: PresenceSnapshot = { state: 'idle', members: [] };
/** Delay before asking again after a refusal that may pass (`rate_limited` without a hint, `server_error`). */
const RETRY_MS = 1000;

/**
 * One channel's presence for the whole client, shared by every handle on the channel (created on
 * first use of `channel.presence`). It watches while any handle has a listener and is a member
 * while any handle has entered, so a client is one member however many handles it holds. After a
 * reconnect it asks for a full snapshot again and enters again; the difference from what it showed
 * is emitted as `join`/`leave`, so the list is never stale after a drop.
 */
export class PresenceStore extends Store<PresenceSnapshot> {
  readonly #requests: Requests;
  readonly #report: ReportError;
  readonly #watchers = new Set<object>();
  readonly #entries = new Map<object, unknown>();
  readonly #listeners = new Set<Listener>();
  /** Retries of the watch ([0]) and of the entry ([1]): one timer each, so arming (or stopping) one never cancels the other. */
  readonly #retries: Timer[] = [];
  #members = new Map<string, PresenceMember>();
  #watchId: string | undefined;
  #enterId: string | undefined;
  #entering: { resolve_: () => void; reject_: (error: TidewireError) => void }[] = [];
  #stopChanges: (() => void) | undefined;
  #stopLine: (() => void) | undefined;

  constructor(
    readonly channel: string,
    requests: Requests,
    report: ReportError,
  ) {
    super(IDLE, report);
    this.#requests = requests;
    this.#report = report;
  }

  /**
   * Follow the line while anyone watches or is entered (and only then, so a store whose channel
   * was released is not kept alive by the client).
   */
  #hold(): void {
    this.#stopChanges ??= this.#requests.onChanges_(this.channel, (frame) => this.#onFrame(frame));
    this.#stopLine ??= this.#requests.onLine_({
      connected_: () => {
        if (this.#watchers.size > 0) this.#watch();
        if (this.#entries.size > 0) this.#enter();
      },
      disconnected_: () => {
        this.#watchId = this.#enterId = undefined;
        this.#stopRetries();
        if (this.#watchers.size > 0) this.#set('syncing');
      },
      terminated_: (error) => {
        this.#watchId = this.#enterId = undefined;
        this.#stopRetries();
        this.#settleEntering(error);
        if (this.#watchers.size > 0) this.#set('failed', error);
      },
    });
  }

  #releaseIfUnused(): void {
    if (this.#watchers.size > 0 || this.#entries.size > 0) return;
    this.#stopLine?.();
    this.#stopChanges?.();
    this.#stopLine = this.#stopChanges = undefined;
  }

  /** Start watching for `owner` (a handle); the first watcher asks the server. */
  watch_(owner: object): void {
    if (this.#watchers.has(owner)) return;
    this.#watchers.add(owner);
    this.#hold();
    if (this.#watchers.size === 1) this.#watch();
  }

  /** Stop watching for `owner`; the last one tells the server and forgets the members. */
  unwatch_(owner: object): void {
    if (!this.#watchers.delete(owner) || this.#watchers.size > 0) return;
    this.#retries[0]?.stop_();
    if (this.#watchId !== undefined) this.#requests.forget_(this.#watchId);
    this.#watchId = undefined;
    this.#requests.notify_({ type: 'presence_unsubscribe', channel: this.channel });
    this.#members = new Map();
    this.setSnapshot(IDLE);
    this.#releaseIfUnused();
  }

  /** Be a member on behalf of `owner`, with `info` (the latest entry's info is the one shown). */
  enter_(owner: object, info: unknown): Promise<void> {
    this.#entries.delete(owner); // re-inserted last: its info is the newest
    this.#entries.set(owner, info);
    this.#hold();
    return new Promise((resolve, reject) => {
      this.#entering.push({ resolve_: resolve, reject_: reject });
      this.#enter();
    });
  }

  /** Stop being a member on behalf of `owner`; the last one leaves. */
  leave_(owner: object): void {
    if (!this.#entries.delete(owner) || this.#entries.size > 0) return;
    // An `enter` not confirmed yet did not happen: it rejects, as a publish cancelled before its ack does.
    this.#forgetEntries(new RequestError('aborted', 'left before the server confirmed the enter', { context: { channel: this.channel } }));
    this.#requests.notify_({ type: 'leave', channel: this.channel });
  }

  /**
   * No longer a member for anyone: left (`error`: `aborted`, for an `enter` still waiting), refused, or ended by the server. A
   * membership that was refused or ended is not entered again on reconnect — only a new `enter`
   * (which the app is told about, and may be refused) makes the client a member again.
   */
  #forgetEntries(error: TidewireError): void {
    this.#entries.clear();
    this.#retries[1]?.stop_();
    if (this.#enterId !== undefined) this.#requests.forget_(this.#enterId);
    this.#enterId = undefined;
    this.#settleEntering(error);
    this.#releaseIfUnused();
  }

  /** Listen to `join`/`leave` (the caller also `watch`es). @returns the function that removes it. */
  listen_(event: keyof PresenceEvents, fn: (member: PresenceMember) => void, report: ReportError): () => void {
    const listener = { event_: event, fn_: fn, report_: report };
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  #online(): boolean {
    return this.#requests.features_ !== undefined && this.#requests.host_.canSend_();
  }

  #watch(): void {
    // A closed or failed client waits for no line: the watch fails with why it ended, as history reads do.
    const ended = this.#requests.ended_;
    if (!this.#online()) return this.#set(ended ? 'failed' : 'syncing', ended);
    const missing = this.#requests.missing_('presence');
    if (missing) return this.#set('failed', missing);
    if (this.#watchId !== undefined) this.#requests.forget_(this.#watchId);
    this.#watchId = this.#requests.send_((id) => ({ type: 'presence_subscribe', id, channel: this.channel }), {
      answer_: (frame) => {
        if (frame.type === 'presence_snapshot') this.#onSnapshot(frame);
      },
      fail_: (error) => this.#refused(error, 0, () => this.#watch(), (e) => this.#set('failed', e)),
    });
    // Until the new snapshot (which includes them), changes are dropped: ones of an earlier watch may still be in flight.
    this.#set('syncing');
  }

  #enter(): void {
    if (this.#entries.size === 0) return;
    // Kept (a later connect() enters), but no `enter()` waits for a closed or failed client's line.
    if (!this.#online()) return void (this.#requests.ended_ && this.#settleEntering(this.#requests.ended_));
    const missing = this.#requests.missing_('presence');
    if (missing) return this.#settleEntering(missing);
    const info = [...this.#entries.values()].at(-1);
    if (this.#enterId !== undefined) this.#requests.forget_(this.#enterId);
    this.#enterId = this.#requests.send_((id) => ({ type: 'enter', id, channel: this.channel, ...(info !== undefined && { info }) }), {
      answer_: (frame) => {
        if (frame.type !== 'entered') return;
        this.#enterId = undefined;
        this.#settleEntering(undefined);
      },
      // Refused by `authorize` (forbidden, unknown_channel), the server also ended what it held;
      // refused as a frame (too_large, bad_request), it kept the membership as it was.
      fail_: (error) => this.#refused(error, 1, () => this.#enter(), (e) => (e.code === 'forbidden' || e.code === 'unknown_channel' ? this.#forgetEntries(e) : this.#settleEntering(e))),
    });
  }

  /** A refusal that may pass later is retried (on the operation's own timer, `slot`); any other ends the attempt. */
  #refused(error: TidewireError, slot: 0 | 1, again: () => void, fail: (error: TidewireError) => void): void {
    if (error.code === 'rate_limited' || error.code === 'server_error') {
      const hint = error.context.retryAfter;
      (this.#retries[slot] ??= new Timer(this.#requests.host_.clock_)).start_(typeof hint === 'number' ? hint : RETRY_MS, again);
      return;
    }
    fail(error);
  }

  #stopRetries(): void {
    for (const retry of this.#retries) retry?.stop_(); // a hole where one never retried
  }

  #settleEntering(error: TidewireError | undefined): void {
    const waiting = this.#entering;
    this.#entering = [];
    for (const { resolve_: resolve, reject_: reject } of waiting) {
      if (error) reject(error);
      else resolve();
    }
  }

  #onSnapshot(frame: PresenceSnapshotFrame): void {
    this.#watchId = undefined;
    const before = this.#members;
    const after = new Map(frame.members.map((m) => [m.clientId, m]));
    this.#members = after;
    this.#set('synced');
    // What changed while we were not looking, as events: a watcher never misses a leave or a join.
    for (const [id, member] of before) if (!after.has(id)) this.#emit('leave', member);
    for (const [id, member] of after) if (!sameMember(before.get(id), member)) this.#emit('join', member);
  }

  #onFrame(frame: PresenceFrame): void {
    if (frame.type !== 'presence_change') {
      // `presence: 'left'` tells an ended membership apart from other errors of the channel (shared tabs forget theirs on it).
      const left = frame.type === 'left';
      const error = new RequestError(frame.code, frame.message, { context: { channel: this.channel, ...(left && { presence: 'left' }) } });
      return left ? this.#left(error) : this.#ended(error);
    }
    const { action, member } = frame;
    if (this.getSnapshot().state !== 'synced') return; // the snapshot that comes next includes it
    if (action === 'join') this.#members.set(member.clientId, member);
    else this.#members.delete(member.clientId);
    this.#set('synced');
    this.#emit(action, member);
  }

  /**
   * The server ended the watch on its own (`presence_unsubscribed` with `error`'s code, e.g. a refresh took the right
   * away): no change follows, so the list is no longer known — failed, with the server's reason.
   * The next connection watches again (and is refused again while the right is missing).
   */
  #ended(error: TidewireError): void {
    if (this.#watchers.size === 0) return; // not watching (only entered): nothing to fail
    this.#members = new Map();
    this.#set('failed', error);
  }

  /**
   * The server ended the membership on its own (`left`, e.g. a refresh took the `enter` right
   * away): told on `client.on('error')` (context `{ channel, presence: 'left' }`), since no `enter()` waits for it, and forgotten.
   */
  #left(error: TidewireError): void {
    if (this.#entries.size === 0) return; // left meanwhile: nothing to end
    this.#forgetEntries(error);
    this.#report(error);
  }

  #set(state: PresenceSnapshot['state'], error?: TidewireError): void {
    const current = this.getSnapshot();
    const members = [...this.#members.values()];
    if (current.state === state && state !== 'synced' && current.error === error) return;
    this.setSnapshot(error ? { state, members, error } : { state, members });
  }

  #emit(event: keyof PresenceEvents, member: PresenceMember): void {
    for (const listener of [...this.#listeners]) {
      if (listener.event_ === event) callSafely(listener.report_, event, { channel: this.channel }, listener.fn_, member);
    }
  }
}

function sameMember(a: PresenceMember | undefined, b: PresenceMember): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

/**
 * `channel.presence`: one handle's view of its channel's presence. Reading members (`subscribe`,
 * `on`) asks the server for them (authorized as `presence`); `enter` makes this client a member
 * (authorized as `enter`). Releasing the channel handle (`channel.unsubscribe()`) ends both for
 * this handle. Needs the server capability `presence`: without it the snapshot is `failed` and
 * `enter` rejects, both with code `unsupported`.
 */
export class ChannelPresence {
  readonly #store: PresenceStore;
  readonly #report: ReportError;
  /** Listeners of this handle (subscribe and on): while there are any, it watches. */
  #uses = 0;
  #released = false;

  /** @internal created by `channel.presence` */
  constructor(store: PresenceStore, report: ReportError) {
    this.#store = store;
    this.#report = report;
  }

  /** The members as this client knows them: `{ state, members, error? }` (see {@link PresenceSnapshot}). */
  getSnapshot = (): PresenceSnapshot => this.#store.getSnapshot();

  /**
   * Call `listener` whenever the snapshot changes; the first listener starts watching the channel.
   * @returns the function that removes the listener (the last one stops watching)
   */
  subscribe = (listener: () => void): (() => void) => this.#use(this.#store.subscribe(listener));

  /**
   * Listen to `join` (a member entered, or entered again with new `info`) or `leave`. Also starts
   * watching. Listeners run isolated (a throw is a `listener_error` on the client's `error` event).
   * @returns the function that removes the listener
   */
  on<E extends keyof PresenceEvents>(event: E, listener: PresenceEvents[E]): () => void {
    return this.#use(this.#store.listen_(event, listener, this.#report));
  }

  /**
   * Appear as a member of the channel, with optional `info` (any JSON: a display name, a status;
   * entering again replaces it). Sent when connected, and again after every reconnect.
   * @param info - what the other members see as `member.info`
   * @returns resolves once the server confirmed (`entered`)
   * @throws (rejects) `unsupported`, `forbidden` (the `authorize` hook said no to `enter`),
   *   `unknown_channel`, `closed`, `aborted` (left before the server confirmed), or another
   *   refusal of the server (`RequestError`)
   */
  enter(info?: unknown): Promise<void> {
    return this.#store.enter_(this, info);
  }

  /** Stop being a member (when no other handle of this client on the channel is one). */
  leave(): void {
    this.#store.leave_(this);
  }

  /** @internal the channel handle was released: end this handle's membership and watching. */
  release(): void {
    this.#released = true;
    this.#store.leave_(this);
    this.#store.unwatch_(this);
  }

  #use(stop: () => void): () => void {
    if (this.#released) {
      stop();
      return () => {};
    }
    if (++this.#uses === 1) this.#store.watch_(this);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      stop();
      if (--this.#uses === 0) this.#store.unwatch_(this);
    };
  }
}

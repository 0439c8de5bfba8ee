import type { LeftFrame, PresenceUnsubscribedFrame, ServerFrame } from '@tidewire/core/protocol';
import type { AuthorizeContext } from './hooks';
import { callHook } from './hookDeadline';
import type { SessionPresence } from './sessionPresence';
import type { ChannelRequestContext } from './sessionRequests';
import type { SessionSubscriptions } from './subscriptions';

/** What a session holds on channels, each with how to end it when its user may no longer have it. */
export interface HeldAccess {
  readonly channel: string;
  readonly action: AuthorizeContext['action'];
  /** End it, telling the client why (`message`). */
  revoke(message: string): void;
}

/**
 * After a refresh, everything the session holds is authorized again for its new `user` — its
 * subscriptions (`subscribe`), presence watches (`presence`) and memberships (`enter`) — so a
 * token that narrows a user's rights narrows what the session receives at once, not at the next
 * resubscribe: a client only ever receives channels its current user is allowed. The session does
 * not wait for it: its later requests authorize with the new user themselves. One per session: at
 * most {@link RECHECK_CONCURRENCY} checks run at a time however many refreshes come (a session
 * holding 1,000 channels must not send 1,000 lookups to the app's store at once, nor 16 more per
 * refresh frame), each within `hookTimeout`; a refresh supersedes what the previous pass had not
 * reached yet (it would be checked for the newest user anyway). Anything but `true` (a refusal, a
 * throw, no answer in time) ends what it checked. Without an `authorize` hook there is nothing to check.
 */
export class AccessRecheck {
  readonly #ctx: ChannelRequestContext;
  #held: readonly HeldAccess[] = [];
  #next = 0;
  #workers = 0;

  /** @param ctx the session's gate context (its `user()` is the current one) */
  constructor(ctx: ChannelRequestContext) {
    this.#ctx = ctx;
  }

  /** A refresh: check `held` (what the session holds now), in order, sharing the session's workers. */
  run(held: readonly HeldAccess[]): void {
    if (!this.#ctx.options.authorize) return;
    this.#held = held;
    this.#next = 0;
    while (this.#workers < Math.min(RECHECK_CONCURRENCY, held.length)) void this.#work();
  }

  /** One worker: takes the next held item in turn until none is left (the order kept, the concurrency bounded). */
  async #work(): Promise<void> {
    this.#workers++;
    try {
      while (this.#next < this.#held.length && !this.#ctx.closed()) await this.#check(this.#held[this.#next++]!);
    } catch (e) {
      this.#ctx.logger.error('tidewire: re-checking access after a refresh failed', e);
    } finally {
      this.#workers--;
    }
  }

  async #check({ channel, action, revoke }: HeldAccess): Promise<void> {
    const ctx = this.#ctx;
    const { authorize, hookTimeout } = ctx.options;
    const outcome = await callHook(() => authorize!({ user: ctx.user(), channel, action, session: ctx.info() }), hookTimeout, ctx.clock);
    if (ctx.closed() || (outcome.kind === 'answered' && outcome.value === true)) return;
    if (outcome.kind !== 'answered') ctx.logger.error(`tidewire: authorize() ${outcome.kind === 'threw' ? 'threw' : `did not answer within ${hookTimeout} ms`} re-checking ${action} "${channel}" after a refresh`, outcome.kind === 'threw' ? outcome.error : undefined);
    revoke(`${action} to "${channel}" is no longer allowed after the token refresh`);
  }
}

/** Most `authorize` checks one session runs at a time after refreshes ({@link AccessRecheck}). */
export const RECHECK_CONCURRENCY = 16;

/** Where a revocation is told to the client. */
export interface RevocationOutput {
  send(frame: ServerFrame): void;
  error(id: undefined, code: 'forbidden', message: string): void;
}

/**
 * What a session holds, for {@link recheckAccess}: a revoked subscription ends with `unsubscribed
 * {code: 'forbidden'}` (the client's channel fails with it), a revoked presence watch with
 * `presence_unsubscribed` (the client's presence fails with it); a revoked membership ends
 * (watchers see the member leave) with `left` (the client no longer counts itself a member).
 */
export function heldAccess(subs: SessionSubscriptions, presence: SessionPresence, out: RevocationOutput, presenceEnd: boolean): HeldAccess[] {
  const { watched, entered } = presence.held();
  // A client that did not offer `presence_end` cannot read these frames (protocol §1): an error naming no request.
  const presenceHeld = (action: 'presence' | 'enter', end: (channel: string) => void, type: (PresenceUnsubscribedFrame | LeftFrame)['type']) => (channel: string): HeldAccess => ({
    channel,
    action,
    revoke: (message) => {
      end(channel);
      if (presenceEnd) out.send({ type, channel, code: 'forbidden', message });
      else out.error(undefined, 'forbidden', message);
    },
  });
  return [
    ...subs.channels().map((channel) => ({ channel, action: 'subscribe' as const, revoke: (message: string) => subs.revoke(channel, 'forbidden', message) })),
    ...watched.map(presenceHeld('presence', (channel) => presence.unwatch(channel), 'presence_unsubscribed')),
    ...entered.map(presenceHeld('enter', (channel) => presence.leave(channel), 'left')),
  ];
}

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
 * not wait for it: its later requests authorize with the new user themselves. At most
 * {@link RECHECK_CONCURRENCY} checks run at a time (a session holding 1,000 channels must not
 * send 1,000 lookups to the app's store at once on every refresh), each within `hookTimeout`;
 * anything but `true` (a refusal, a throw, no answer in time) ends what it checked. Without an
 * `authorize` hook there is nothing to check.
 * @param ctx the session's gate context (its `user()` is the new one)
 * @param held what the session holds now
 */
export async function recheckAccess(ctx: ChannelRequestContext, held: readonly HeldAccess[]): Promise<void> {
  const { authorize, hookTimeout } = ctx.options;
  if (!authorize) return;
  const check = async ({ channel, action, revoke }: HeldAccess): Promise<void> => {
    const outcome = await callHook(() => authorize({ user: ctx.user(), channel, action, session: ctx.info() }), hookTimeout, ctx.clock);
    if (ctx.closed() || (outcome.kind === 'answered' && outcome.value === true)) return;
    if (outcome.kind !== 'answered') ctx.logger.error(`tidewire: authorize() ${outcome.kind === 'threw' ? 'threw' : `did not answer within ${hookTimeout} ms`} re-checking ${action} "${channel}" after a refresh`, outcome.kind === 'threw' ? outcome.error : undefined);
    revoke(`${action} to "${channel}" is no longer allowed after the token refresh`);
  };
  // A few workers taking the next held item in turn: the order is kept, the concurrency bounded.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < held.length && !ctx.closed()) await check(held[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(RECHECK_CONCURRENCY, held.length) }, worker));
}

/** Most `authorize` checks one session's refresh runs at a time ({@link recheckAccess}). */
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

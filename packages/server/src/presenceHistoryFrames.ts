import type { EnterFrame, ErrorCode, HistoryFrame, LeaveFrame, PresenceSubscribeFrame, PresenceUnsubscribeFrame, ServerFrame } from '@tidewire/core/protocol';
import type { Broker } from './broker/broker';
import { serverFeatures } from './features';
import { answerHistory } from './historyRequest';
import type { SessionPresence } from './sessionPresence';

/** The frames of capabilities `presence` and `history` (protocol §14, §15). */
export type PresenceHistoryFrame = PresenceSubscribeFrame | PresenceUnsubscribeFrame | EnterFrame | LeaveFrame | HistoryFrame;

/** What handling them needs from the session. */
export interface PresenceHistoryContext {
  readonly broker: Broker;
  readonly presence: SessionPresence;
  /**
   * The session's gate: channel name, then `authorize` with this action; answers the refusal itself.
   * With `drop`, the request replaces what the session holds, and a refusal ends that too.
   */
  permit(id: string, channel: string, request: 'history' | 'presence' | 'enter', drop?: () => void): Promise<boolean>;
  error(id: string | undefined, code: ErrorCode, message: string): void;
  send(frame: ServerFrame): void;
}

/**
 * Handle one presence or history frame. Reading members is authorized as `presence`, joining as
 * `enter`, reading history as `subscribe` (whoever may follow a channel may read its past). A frame
 * of a capability this server did not announce (its broker lacks the methods) is a `bad_request`.
 * Throws only when the broker does (the session answers `server_error`).
 */
export async function handlePresenceOrHistory(frame: PresenceHistoryFrame, ctx: PresenceHistoryContext): Promise<void> {
  const feature = frame.type === 'history' ? 'history' : 'presence';
  if (!serverFeatures(ctx).includes(feature)) {
    return ctx.error('id' in frame ? frame.id : undefined, 'bad_request', `this server does not support "${feature}" (see connected.features)`);
  }
  switch (frame.type) {
    // A new watch or entering again replaces the one held: refused, the held one ends too.
    case 'presence_subscribe':
      if (await ctx.permit(frame.id, frame.channel, 'presence', () => ctx.presence.unwatch(frame.channel))) await ctx.presence.watch(frame);
      return;
    case 'presence_unsubscribe':
      return ctx.presence.unwatch(frame.channel);
    case 'enter':
      if (await ctx.permit(frame.id, frame.channel, 'enter', () => ctx.presence.leave(frame.channel))) await ctx.presence.enter(frame);
      return;
    case 'leave':
      return ctx.presence.leave(frame.channel);
    case 'history':
      if (await ctx.permit(frame.id, frame.channel, 'history')) ctx.send(await answerHistory(ctx.broker, frame));
      return;
  }
}

import type { HistoryFrame, HistoryPageFrame, SubscribeFrame } from '@tidewire/core/protocol';
import type { Broker } from './broker/broker';
import { TidewireServerError } from './errors';

/** Most messages one `history` page (or one `subscribe.recent`) returns: a larger `limit` is capped to it. */
export const MAX_HISTORY_PAGE = 1000;

/**
 * Answer a `history` request (protocol §15.1) from the broker's stored messages. The caller has
 * checked the channel name and authorization (like a subscribe).
 * @param broker a broker with `history` (capability `history`)
 * @param frame the request; `limit` is capped at {@link MAX_HISTORY_PAGE}
 * @returns the `history_page` answer
 * @throws whatever the broker throws, and TidewireServerError `invalid_data` for a page holding a
 *   message without data (the session answers both `server_error` and logs them)
 */
export async function answerHistory(broker: Broker, frame: HistoryFrame): Promise<HistoryPageFrame> {
  const { id, channel, before, after, direction = 'backward' } = frame;
  const page = await broker.history!(channel, { limit: Math.min(frame.limit, MAX_HISTORY_PAGE), before, after, direction });
  return {
    type: 'history_page',
    id,
    channel,
    epoch: page.epoch,
    head: page.head,
    messages: page.messages.map(({ offset, id: messageId, data }) => {
      // What the server stores is JSON (jsonValue.ts), but a broker may still hand back an entry
      // without data (corrupt, or written by something else): sent, the whole page would be an
      // invalid frame the client drops, and its history() would wait for a timeout.
      if (data === undefined) throw new TidewireServerError('invalid_data', `the broker's history of "${channel}" holds a message without data (offset ${offset})`);
      return { offset, id: messageId, data };
    }),
    more: page.more,
  };
}

/**
 * Turn a `subscribe` with `recent: N` (and no `since`) into one with the `since` that makes the
 * subscription start with the last N stored messages (protocol §15.2): the position just before
 * the oldest of them. The broker's subscribe then replays them atomically with the live stream,
 * so nothing falls between the recent past and what follows, and nothing comes twice — even when
 * messages are published between this read and the subscribe (they are replayed too).
 * @param broker the session's broker (without `history`, the frame is returned unchanged)
 * @param frame the client's subscribe
 * @returns the subscribe to hand to the subscriptions
 */
export async function resolveRecent(broker: Broker, frame: SubscribeFrame): Promise<SubscribeFrame> {
  const { recent, since } = frame;
  if (since || !recent || !broker.history) return frame;
  const page = await broker.history(frame.channel, { limit: Math.min(recent, MAX_HISTORY_PAGE), direction: 'backward' });
  const oldest = page.messages.at(-1);
  return { ...frame, since: { epoch: page.epoch, offset: oldest ? oldest.offset - 1 : page.head } };
}

import type { BrokerMessage, HistoryQuery, HistoryResult } from './broker';

/**
 * Cut one history page out of a channel's stored messages: those with `after < offset < before`,
 * at most `limit`, newest first (`backward`) or oldest first (`forward`). Shared by brokers so
 * every one pages the same way.
 * @param epoch the channel's current epoch
 * @param head the channel's newest offset (0: none yet)
 * @param stored stored messages with offset > `query.after`, oldest first (consecutive offsets)
 * @param query the bounds, `limit` and `direction`
 * @returns the page, with `more` telling whether messages within the bounds remain past it
 */
export function historyPage(epoch: string, head: number, stored: readonly BrokerMessage[], query: HistoryQuery): HistoryResult {
  const { before = Infinity, after = 0, limit } = query;
  const inBounds = stored.filter((m) => m.offset > after && m.offset < before);
  const messages = query.direction === 'forward' ? inBounds.slice(0, limit) : inBounds.slice(Math.max(0, inBounds.length - limit)).reverse();
  return { epoch, head, messages, more: inBounds.length > messages.length };
}

import type { HistoryQuery, HistoryResult } from '@tidewire/server';
import { decodeEntries } from './codec';
import type { ChannelKeys } from './keys';

/** Runs one Redis command (the broker's connection, errors classified by the caller). */
type Command = (args: string[]) => Promise<unknown>;

/**
 * One history page from a channel's stream (capability `history`): the stream's entry ids are
 * `<offset>-0`, so the bounds `after < offset < before` are an id range, read newest first
 * (`XREVRANGE`) or oldest first (`XRANGE`) with one entry more than `limit` to tell whether more
 * remain. The epoch and head come from the channel's metadata; a channel never used has none
 * (an empty page with epoch `''`).
 * @param command runs a Redis command
 * @param keys the channel's keys
 * @param size `history.size`: entries older than the head's last `size` are not history any more
 * @param query bounds, `limit` and `direction`
 * @returns the page
 */
export async function readHistory(command: Command, keys: ChannelKeys, size: number, query: HistoryQuery): Promise<HistoryResult> {
  const [epoch, headText] = (await command(['HMGET', keys.meta, 'e', 's'])) as [string | null, string | null];
  const head = Number(headText ?? 0);
  // The stream may hold more than `size` entries (trimmed with MAXLEN ~): history is the last `size`.
  const low = Math.max((query.after ?? 0) + 1, head - size + 1);
  const high = Math.min(head, (query.before ?? Number.MAX_SAFE_INTEGER) - 1);
  if (epoch === null || high < low) return { epoch: epoch ?? '', head, messages: [], more: false };
  const count = String(query.limit + 1);
  const reply =
    query.direction === 'forward'
      ? await command(['XRANGE', keys.stream, `${low}-0`, `${high}-0`, 'COUNT', count])
      : await command(['XREVRANGE', keys.stream, `${high}-0`, `${low}-0`, 'COUNT', count]);
  const entries = decodeEntries(reply, epoch);
  return { epoch, head, messages: entries.slice(0, query.limit), more: entries.length > query.limit };
}

import type { HistoryQuery, HistoryResult } from '@tidewire/server';
import { decodeEntries } from './codec';
import type { ChannelKeys } from './keys';

/** Runs the history script (the broker's connection, errors classified by the caller). */
type RunScript = (keys: string[], args: string[]) => Promise<unknown>;

/**
 * One history page from a channel's stream (capability `history`), read by HISTORY_SCRIPT in one
 * step after its age trim: nothing older than `history.ttl` nor than the head's last `size` comes
 * back, as from the memory broker. A channel read for the first time gets its epoch here, so a page's position is always resumable.
 * @param run runs HISTORY_SCRIPT
 * @param keys the channel's keys
 * @param bounds `history.size` (entries older than the head's last `size` are not history any more), `history.ttl` in ms, the meta TTL, a candidate epoch and a page's byte bound (as the memory broker's 8 MiB history)
 * @param query bounds, `limit` and `direction`
 * @returns the page
 */
export async function readHistory(run: RunScript, keys: ChannelKeys, bounds: { size: number; ttl: number; metaTtl: number; newEpoch: string; maxBytes: number }, query: HistoryQuery): Promise<HistoryResult> {
  const reply = (await run(
    [keys.meta, keys.stream],
    [String(query.after ?? 0), String(query.before ?? Number.MAX_SAFE_INTEGER), String(query.limit + 1), query.direction, String(bounds.size), String(bounds.ttl), bounds.newEpoch, String(bounds.metaTtl), String(bounds.maxBytes)],
  )) as [string, number, unknown, number];
  const epoch = String(reply[0]);
  const entries = decodeEntries(reply[2], epoch);
  return { epoch, head: Number(reply[1]), messages: entries.slice(0, query.limit), more: entries.length > query.limit || Number(reply[3]) === 1 };
}

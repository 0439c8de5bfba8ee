import { TidewireError } from './errors';
import type { ReportError } from './isolate';
import type { Outbox } from './outbox';
import type { PendingPublishes } from './pending-publishes';

/**
 * Queue what the last run left in `outboxStorage`, with its ids (the server stores each once),
 * dropping what waited longer than `maxAge`. A storage that fails to list is reported as
 * `listener_error` and counts as empty.
 * @param maxAge ms since an entry was queued after which it is forgotten (`queueTimeout`)
 * @returns whether anything was stored (kept or dropped): the client then connects unless `lazy: false`
 */
export async function restorePending(pending: PendingPublishes, outbox: Outbox, maxAge: number, report: ReportError): Promise<boolean> {
  const stored = await pending.stored_().catch((cause: unknown) => {
    report(new TidewireError('listener_error', `outboxStorage.list failed: ${String(cause)}`, { cause }));
    return [];
  });
  for (const entry of stored) {
    if (Date.now() - entry.queuedAt > maxAge) pending.forget_(entry.id);
    else pending.track_(entry, outbox.add_(entry.id, entry.frame), false);
  }
  return stored.length > 0;
}

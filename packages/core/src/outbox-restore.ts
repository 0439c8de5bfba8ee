import type { ClientHost } from './client-host';
import { settleWithin } from './clock';
import type { TidewireError } from './errors';
import { TimeoutError } from './errors';
import { listenerError } from './isolate';
import type { StoredPublish } from './outbox-storage';
import { rememberOwnId } from './publish-ids';

/** The context of every report about the storage's `list()`. */
const LIST = { method: 'list' };

/**
 * Queue what the last run left in `outboxStorage`, with its ids (the server stores each once),
 * dropping what waited longer than `queueTimeout`. The storage is app code, so its answer is
 * checked, not trusted:
 * - a `list()` that fails (throws, rejects, answers something that is not an array) is reported
 *   as `listener_error` and counts as empty;
 * - a `list()` that does not answer within `connectTimeout` (or `queueTimeout`, if shorter) is
 *   reported as `timeout` and counts as empty (its late answer is ignored: what it holds stays
 *   stored for the next start), so publishes of this run never wait on it forever;
 * - each entry that is not a stored publish (no `frame`, a frame that is not this publish…) is
 *   dropped — deleted from the storage when it has an id — and reported as `listener_error`
 *   (`context.id`); the others are restored.
 * In every report `context.callback` is `'outboxStorage'` and `context.method` `'list'`.
 *
 * A restored publish is this run's as much as the last one's: it keeps the `queueTimeout` it has
 * left (counted from `queuedAt`), `echo: false` skips its message, and since no promise of this
 * run waits for it, a publish that fails for good — too old already, beyond `maxQueue`, refused,
 * timed out — is reported on `client.on('error')` (with its id in `context.id`) as it is deleted
 * from the storage. One that ends because the client was closed stays stored, unreported.
 * @returns whether anything was stored (kept or dropped): the client then connects unless `lazy: false`
 */
export async function restorePending(host: ClientHost): Promise<boolean> {
  const { pending_: pending, report_: report } = host;
  // Like getToken's deadline; never longer than a publish of this run may wait unsent (queueTimeout).
  const ms = Math.min(host.options_.connectTimeout ?? 5000, host.queueTimeout_);
  const timeout = () => new TimeoutError('timeout', `outboxStorage.list() timed out (${ms} ms)`, { context: { callback: 'outboxStorage', ...LIST } });
  const listed = await settleWithin(pending.stored_(), host.clock_, ms, timeout)
    .then((entries) => (Array.isArray(entries) ? (entries as unknown[]) : Promise.reject(new TypeError('list() answered no array'))))
    .catch((cause: unknown) => {
      report(cause instanceof TimeoutError ? cause : listenerError('outboxStorage', cause, LIST));
      return [];
    });
  const stored: StoredPublish[] = [];
  for (const entry of listed) {
    const id = (entry as Partial<StoredPublish> | null)?.id;
    if (typeof id === 'string' && pending.has_(id)) continue; // already pending in this run
    if (isStoredPublish(entry)) stored.push(entry);
    else {
      report(listenerError('outboxStorage', new TypeError('not a stored publish: dropped'), { ...LIST, id }));
      if (typeof id === 'string') pending.forget_(id);
    }
  }
  const outbox = host.outbox_;
  // Closed (or failed) while the storage was read: they stay stored, for the next start.
  const { state_: state } = host.connection_;
  if (state === 'closed' || state === 'failed') return listed.length > 0;
  for (const entry of stored.sort((a, b) => a.queuedAt - b.queuedAt)) {
    const { id, channel } = entry;
    const spent = Math.max(0, Date.now() - entry.queuedAt);
    if (spent >= host.queueTimeout_) {
      pending.forget_(id);
      report(new TimeoutError('timeout', `stored publish older than queueTimeout (${host.queueTimeout_} ms): not sent`, { context: { id, channel } }));
      continue;
    }
    const result = outbox.add_(entry.id, entry.frame, undefined, `publish:${channel}`, spent);
    pending.track_(entry, result, false);
    rememberOwnId(host.ownIds_, channel, id);
    // Not when the app cancelled it (cancelPublish): it knows.
    result.catch((error: TidewireError) => void (error === pending.ended_ || error.context.cancelled === true || report(error)));
  }
  return listed.length > 0;
}

/**
 * Whether `entry` is a publish the client can send again as it is: an id of 1–64 characters, a
 * channel, a finite `queuedAt` and a `frame` that is this publish's encoded frame (a `publish`
 * with the same id and channel, carrying data).
 */
function isStoredPublish(entry: unknown): entry is StoredPublish {
  try {
    const { id, channel, queuedAt, frame } = entry as StoredPublish;
    const sent = JSON.parse(frame) as Partial<Record<string, unknown>>;
    return typeof id === 'string' && id.length > 0 && id.length <= 64 && typeof channel === 'string' && Number.isFinite(queuedAt) && sent.type === 'publish' && sent.id === id && sent.channel === channel && sent.data !== undefined;
  } catch {
    return false; // no object, no frame, a frame that is not JSON (or JSON null)
  }
}

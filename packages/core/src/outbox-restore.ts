import type { ClientHost } from './client-host';
import { Timer } from './clock';
import { TimeoutError } from './errors';
import type { ReportError } from './isolate';
import { listenerError } from './isolate';
import type { StoredPublish } from './outbox-storage';

/**
 * Queue what the last run left in `outboxStorage`, with its ids (the server stores each once),
 * dropping what waited longer than `queueTimeout`. The storage is app code, so its answer is
 * checked, not trusted:
 * - a `list()` that fails (throws, rejects, answers something that is not an array) is reported
 *   as `listener_error` and counts as empty;
 * - a `list()` that does not answer within `connectTimeout` (or `queueTimeout`, if shorter) is reported as `timeout` and counts as
 *   empty (its late answer is ignored: what it holds stays stored for the next start), so publishes
 *   of this run never wait on it forever;
 * - each entry that is not a stored publish (no `frame`, a frame that is not this publish…) is
 *   dropped — deleted from the storage when it has an id — and reported as `listener_error`; the
 *   others are restored.
 * In every report `context.callback` is `'outboxStorage'` (`method: 'list'`).
 * @returns whether anything was stored (kept or dropped): the client then connects unless `lazy: false`
 */
export async function restorePending(host: ClientHost): Promise<boolean> {
  const { pending_: pending, report_: report } = host;
  // Like getToken's deadline; never longer than a publish of this run may wait unsent (queueTimeout).
  const deadline = Math.min(host.options_.connectTimeout ?? 5000, host.queueTimeout_);
  const listed = await answerWithin(pending.stored_(), host, deadline).catch((cause: unknown) => {
    report(cause instanceof TimeoutError ? cause : listenerError('outboxStorage', cause, { method: 'list' }));
    return [];
  });
  if (!Array.isArray(listed)) {
    report(listenerError('outboxStorage', new TypeError('outboxStorage.list() must answer an array'), { method: 'list' }));
    return false;
  }
  const stored: StoredPublish[] = [];
  for (const entry of listed as unknown[]) {
    const id = typeof entry === 'object' && entry !== null ? (entry as { id?: unknown }).id : undefined;
    if (typeof id === 'string' && pending.has_(id)) continue; // already pending in this run
    const problem = storedPublishProblem(entry);
    if (problem === undefined) stored.push(entry as StoredPublish);
    else drop(problem, id, host, report);
  }
  stored.sort((a, b) => a.queuedAt - b.queuedAt);
  const outbox = host.outbox_;
  for (const entry of stored) {
    if (Date.now() - entry.queuedAt > host.queueTimeout_) pending.forget_(entry.id);
    else pending.track_(entry, outbox.add_(entry.id, entry.frame), false);
  }
  return listed.length > 0;
}

/** A stored entry the client cannot send: reported, and deleted from the storage when it has an id to delete by. */
function drop(problem: string, id: unknown, host: ClientHost, report: ReportError): void {
  const shown = typeof id === 'string' ? ` "${id.slice(0, 64)}"` : '';
  report(listenerError('outboxStorage', new TypeError(`stored publish${shown} dropped: ${problem}`), { method: 'list', id: typeof id === 'string' ? id : undefined }));
  if (typeof id === 'string') host.pending_.forget_(id);
}

/**
 * Why `entry` is not a publish the client can send again as it is, or undefined when it is one:
 * an id of 1–64 characters, a channel, a finite `queuedAt` and a `frame` that is this publish's
 * encoded frame (a `publish` with the same id and channel, carrying data).
 */
function storedPublishProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null) return 'not an object';
  const { id, channel, queuedAt, frame } = entry as Partial<Record<keyof StoredPublish, unknown>>;
  if (typeof id !== 'string' || id.length === 0 || id.length > 64) return 'no valid id';
  if (typeof channel !== 'string') return 'no channel';
  if (typeof queuedAt !== 'number' || !Number.isFinite(queuedAt)) return 'no valid queuedAt';
  if (typeof frame !== 'string') return 'no frame';
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame);
  } catch {
    return 'its frame is not JSON';
  }
  const p = parsed as Record<string, unknown> | null;
  if (typeof p !== 'object' || p === null || p.type !== 'publish' || p.id !== id || p.channel !== channel || p.data === undefined) {
    return 'its frame is not this publish';
  }
  return undefined;
}

/** `list`'s answer, or a rejection with a `timeout` when it has none within `ms` (its late answer is then ignored). */
function answerWithin(list: Promise<unknown>, host: ClientHost, ms: number): Promise<unknown> {
  const timer = new Timer(host.clock_);
  return new Promise((resolve, reject) => {
    timer.start_(ms, () =>
      reject(new TimeoutError('timeout', `outboxStorage.list() did not answer within ${ms} ms: starting without what it holds`, { context: { callback: 'outboxStorage', method: 'list' } })),
    );
    list.then(resolve, reject).finally(() => timer.stop_());
  });
}

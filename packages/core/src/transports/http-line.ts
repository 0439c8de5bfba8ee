import { TidewireError } from '../errors';
import type { CloseCode } from '../protocol/frames';
import type { Transport, TransportContext, TransportEvents } from '../transport';
import { withScheme } from '../transport';

export interface HttpTransportOptions {
  /** A fetch implementation. Defaults to the client's `fetch`, then the global one. */
  fetch?: typeof globalThis.fetch;
}

/** Upstream POSTs carry whole frames; a new POST starts once this many characters are batched. */
const BATCH_CHARS = 16_384;

export interface RequestOptions {
  body?: string;
  params?: Record<string, string | number>;
  headers?: Record<string, string>;
  stream?: boolean;
}

/** The part SSE and long polling share: URLs, the Authorization header, ordered batched POSTs, closing once. */
export interface HttpLine extends Transport {
  /** The session id the server handed out; sent as `?sid=` on every later request. */
  sid?: string;
  done?: boolean;
  /**
   * A request to `<url>/<path>`; rejects on a network error or a non-2xx answer (with `status`).
   * `stream`: the body is read for the life of the line, so it stays abortable until the line ends.
   */
  request(method: string, options?: RequestOptions): Promise<Response>;
  /** Report the end once (no event after `close()`). */
  fail(message: string, cause?: unknown, code?: CloseCode): void;
}

export function httpLine(
  path: string,
  context: TransportContext,
  events: TransportEvents,
  options: HttpTransportOptions,
  hangUp?: boolean,
): HttpLine {
  const fetchImpl = options.fetch ?? context.fetch ?? globalThis.fetch;
  if (!fetchImpl) {
    throw new TidewireError(
      'transport_error',
      `No fetch implementation found for the ${path} transport. Pass one: createClient({ url, fetch }).`,
    );
  }
  const base = new URL(withScheme(context.url, 'http'));
  base.pathname = base.pathname.replace(/\/$/, '') + '/' + path;
  // The token goes in a header, never in the URL (URLs end up in logs).
  const auth: Record<string, string> = context.token ? { Authorization: 'Bearer ' + context.token } : {};
  // One controller per request, forgotten when it settles: a signal shared by every request
  // would collect an abort listener per fetch for the life of the line (a leak).
  const live = new Set<AbortController>();
  const abortAll = () => {
    for (const controller of live) controller.abort();
    live.clear();
  };
  const queue: string[] = [];
  let busy = false;

  const url = (params: Record<string, string | number> = {}): URL => {
    const u = new URL(base);
    if (line.sid) u.searchParams.set('sid', line.sid);
    for (const key in params) u.searchParams.set(key, String(params[key]));
    return u;
  };

  // One POST in flight; frames sent meanwhile (or in the same tick) go together in the next one, in order.
  const flush = async (): Promise<void> => {
    const batch: string[] = [];
    for (let chars = 0; queue.length && chars < BATCH_CHARS; ) chars += batch[batch.push(queue.shift()!) - 1]!.length;
    try {
      await line.request('POST', { body: JSON.stringify(batch) });
    } catch (cause) {
      // 413: the server closed the session as too_large; say so even if its close frame is lost.
      return line.fail(`${path}: sending failed`, cause, (cause as { status?: number }).status === 413 ? 'too_large' : undefined);
    }
    if (queue.length) void flush();
    else busy = false;
  };

  const line: HttpLine = {
    async request(method, { body, params, headers, stream } = {}) {
      const controller = new AbortController();
      live.add(controller);
      try {
        const res = await fetchImpl(url(params), { method, body, headers: { ...auth, ...headers }, signal: controller.signal });
        if (!res.ok) throw Object.assign(new Error(`${method} ${path}: HTTP ${res.status}`), { status: res.status });
        return res;
      } finally {
        if (!stream) live.delete(controller);
      }
    },
    fail(message, cause, code) {
      if (line.done) return;
      line.done = true;
      abortAll();
      events.onClose({ code, message, cause });
    },
    send(frame) {
      queue.push(frame);
      if (!busy) {
        busy = true;
        queueMicrotask(() => void flush());
      }
    },
    close() {
      if (line.done) return;
      line.done = true;
      abortAll();
      // Tell the server at once instead of letting the session expire (fire and forget).
      if (hangUp && line.sid) fetchImpl(url(), { method: 'DELETE', headers: auth }).catch(() => {});
    },
  };
  return line;
}

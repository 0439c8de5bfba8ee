import { TidewireError } from '../errors';
import type { CloseCode } from '../protocol/frames';
import { closeCodeFromRefusal } from '../retry-policy';
import type { Transport, TransportContext, TransportEvents } from '../transport';
import { withScheme } from '../transport';
import type { FrameLimitOptions } from './frame-limit';
import { frameLimit, frameTooLarge } from './frame-limit';

export interface HttpTransportOptions extends FrameLimitOptions {
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

/** The header that proves a request belongs to the session that the line opened. */
export const SECRET_HEADER = 'x-tidewire-secret';

/**
 * The part SSE, EventSource and long polling share: URLs, the Authorization header, the session
 * secret, reading bodies chunk by chunk, ordered batched POSTs, closing once.
 */
export interface HttpLine extends Transport {
  /** `<url>/<path>` with an http(s) scheme: the endpoint every request of the line goes to. */
  readonly endpoint: string;
  /** The fetch every request of the line uses. */
  readonly fetch: typeof globalThis.fetch;
  /** The session id the server handed out; sent as `?sid=` on every later request. */
  sid?: string;
  /**
   * The per-session secret from the server's first answer, if it sent one; sent in the
   * `x-tidewire-secret` header on every later request of the session, never in a URL (URLs end up in logs).
   */
  secret?: string;
  /** The server reads POST bodies of one frame per line (its open answer said `upstream: "lines"`, protocol §13.2). */
  lines?: boolean;
  done?: boolean;
  /** The largest frame the line reads, in bytes (`maxFrameBytes`, see frame-limit.ts). */
  readonly maxFrameBytes: number;
  /**
   * A frame outgrew `maxFrameBytes`: report it (`invalid_frame`) and end the line, so the client
   * reconnects instead of buffering without end.
   * @param what the thing that grew too big, e.g. "an SSE event"
   */
  tooLarge(what: string): void;
  /**
   * Adopt the server's first answer, `{ "sid": string, "secret"?: string, "upstream"?: "lines" }` as JSON text.
   * @returns false (and adopts nothing) when the text is not such an object
   */
  adopt(openText: string): boolean;
  /**
   * Read a body to its end as text, in order: `onText` gets each chunk decoded (a UTF-8 character
   * split between chunks is kept whole), and every chunk is reported as activity with its size.
   * Cost is linear in bytes. Rejects when the body fails (cut, aborted). A body without a stream whose
   * `content-length` is over `maxFrameBytes` is not read (the line ends as `tooLarge`).
   */
  read(res: Response, onText: (text: string) => void): Promise<void>;
  /**
   * A request to `<url>/<path>`; rejects on a network error or a non-2xx answer (with `status`).
   * `stream`: the body is read for the life of the line, so it stays abortable until the line ends.
   */
  request(method: string, options?: RequestOptions): Promise<Response>;
  /** Report the end once (no event after `close()`). */
  fail(message: string, cause?: unknown, code?: CloseCode): void;
}

/** How one kind of HTTP transport uses the shared line. */
export interface LineSettings {
  /** Send `DELETE` on `close()` so the server drops the session at once (long polling). Default false. */
  hangUp?: boolean;
  /**
   * Send the token as `Authorization: Bearer` (default true). False when the stream is opened
   * without it (the platform's EventSource cannot send headers): the server binds a session to
   * the header its first request carried, so every request must match; the token then travels
   * only in the `connect` frame.
   */
  bearer?: boolean;
  /** `fetch` credentials mode for every request (e.g. `include` for cookies across origins). Default: fetch's own. */
  credentials?: RequestCredentials;
  /** Called once when the line ends, by `fail()` or `close()`: release what the transport holds besides requests. */
  onEnd?: () => void;
}

export function httpLine(
  path: string,
  context: TransportContext,
  events: TransportEvents,
  options: HttpTransportOptions,
  { hangUp = false, bearer = true, credentials, onEnd }: LineSettings = {},
): HttpLine {
  const maxFrameBytes = frameLimit(options);
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
  const auth: Record<string, string> = bearer && context.token ? { Authorization: 'Bearer ' + context.token } : {};
  // Never followed: the protocol has no redirects, and following one would re-send the session's
  // secret, its id and (upstream) the connect frame's token to wherever it points. `manual` rather
  // than `error`: the answer is then refused with its status, which says what happened.
  const mode: RequestInit = credentials ? { credentials, redirect: 'manual' } : { redirect: 'manual' };
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
      // Where the server reads it (protocol §13.2): a line feed, then a frame text per line (each encoded
      // once). A text with a raw line feed is not a frame the connection makes; it would split, so it goes as before.
      const lines = line.lines && !batch.some((frame) => frame.includes('\n'));
      await line.request('POST', { body: lines ? '\n' + batch.join('\n') : JSON.stringify(batch) });
    } catch (cause) {
      // 413: the server closed the session as too_large; say so even if its close frame is lost.
      return line.fail(`${path}: sending failed`, cause, (cause as { status?: number }).status === 413 ? 'too_large' : undefined);
    }
    if (queue.length) void flush();
    else busy = false;
  };

  const proof = (): Record<string, string> => (line.secret ? { [SECRET_HEADER]: line.secret } : {});

  const line: HttpLine = {
    endpoint: base.toString(),
    fetch: fetchImpl,
    maxFrameBytes,
    tooLarge(what) {
      if (line.done) return;
      const { reason, error } = frameTooLarge(what, maxFrameBytes);
      events.onInvalid?.(reason);
      line.fail(`${path}: ${reason}`, error);
    },
    adopt(openText) {
      let body: unknown;
      try {
        body = JSON.parse(openText);
      } catch {
        return false;
      }
      const { sid, secret, upstream } = (body ?? {}) as { sid?: unknown; secret?: unknown; upstream?: unknown };
      if (typeof sid !== 'string' || !sid || (secret !== undefined && typeof secret !== 'string')) return false;
      line.sid = sid;
      line.secret = secret;
      line.lines = upstream === 'lines';
      return true;
    },
    async read(res, onText) {
      if (!res.body) {
        // No streaming body (some fetch polyfills): the whole text is the one chunk; only its announced size can be checked first.
        if (Number(res.headers.get('content-length')) > maxFrameBytes) return line.tooLarge(`an HTTP answer of ${res.headers.get('content-length')} bytes`);
        const text = await res.text();
        if (line.done) return;
        events.onActivity?.(text.length);
        return onText(text);
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (let chunk; !(chunk = await reader.read()).done; ) {
        if (line.done) return void reader.cancel().catch(() => {});
        events.onActivity?.(chunk.value.byteLength);
        onText(decoder.decode(chunk.value, { stream: true }));
      }
      const rest = decoder.decode();
      if (rest) onText(rest);
    },
    async request(method, { body, params, headers, stream } = {}) {
      const controller = new AbortController();
      live.add(controller);
      try {
        const res = await fetchImpl(url(params), { ...mode, method, body, headers: { ...auth, ...proof(), ...headers }, signal: controller.signal });
        if (!res.ok) throw await refusal(res, `${method} ${path}`);
        return res;
      } finally {
        if (!stream) live.delete(controller);
      }
    },
    fail(message, cause, code) {
      if (line.done) return;
      // The server said why it refused (e.g. forbidden_origin): that is the reason, not a network failure.
      const refused = code === undefined ? closeCodeFromRefusal((cause as { code?: unknown } | undefined)?.code) : undefined;
      if (refused) [code, message] = [refused, `${message}: ${(cause as Error).message}`];
      line.done = true;
      abortAll();
      onEnd?.();
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
      onEnd?.();
      // Tell the server at once instead of letting the session expire (fire and forget).
      if (hangUp && line.sid) fetchImpl(url(), { ...mode, method: 'DELETE', headers: { ...auth, ...proof() } }).catch(() => {});
    },
  };
  return line;
}

/** The longest error body read from a refusal: the server's are a few hundred bytes. */
const REFUSAL_BODY_CHARS = 4096;

/**
 * An error for a non-2xx answer, with its `status` and, when the server's JSON body
 * (`{"error":{"code","message"}}`) names a refusal the client acts on, the close `code` it stands for.
 */
async function refusal(res: Response, what: string): Promise<Error & { status: number; code?: CloseCode }> {
  let serverCode: unknown;
  let serverMessage = '';
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try {
      const text = await textPrefix(res, REFUSAL_BODY_CHARS);
      const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      serverCode = error?.code;
      if (typeof error?.message === 'string') serverMessage = ` (${error.message})`;
    } catch {
      // not the server's JSON (a proxy's page): only the status is known
    }
  } else {
    void res.body?.cancel().catch(() => {});
  }
  const code = closeCodeFromRefusal(serverCode);
  const label = typeof serverCode === 'string' ? ` ${serverCode}` : '';
  // A browser shows a redirect not followed as an opaque answer (status 0); Node as its 3xx.
  const redirect = res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400) ? ' (a redirect: not followed, point the client at the server itself)' : '';
  return Object.assign(new Error(`${what}: HTTP ${res.status}${label}${serverMessage}${redirect}`), { status: res.status, ...(code && { code }) });
}

/**
 * The start of a body, read no further than `chars` (a broken proxy's error page may never end).
 * @returns up to about `chars` characters of the body's text (the chunk that crossed it included)
 */
async function textPrefix(res: Response, chars: number): Promise<string> {
  if (!res.body) return (await res.text()).slice(0, chars);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (let chunk; text.length < chars && !(chunk = await reader.read()).done; ) text += decoder.decode(chunk.value, { stream: true });
  void reader.cancel().catch(() => {});
  return text.slice(0, chars);
}

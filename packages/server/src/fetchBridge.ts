import { EventEmitter } from 'node:events';
import { IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';

/**
 * The SSE and long-polling transports are written against `node:http` (they need little of it:
 * method, URL, headers and body in; status, headers, streamed writes, `writableLength` and `close`
 * out). These two adapters let a Fetch-API `Request` drive them and turn what they write into a
 * `Response` whose body streams — so one implementation serves `attach()` and `fetchHandler()`.
 */

/** Status codes whose Response must have no body (the Fetch spec throws otherwise). */
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/** Hop-by-hop or framing headers: the platform in front of the handler frames the body itself. */
const PLATFORM_HEADERS = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive']);

/**
 * A real `IncomingMessage` (so hooks that read `request.headers` or `request.socket` work as under
 * `attach`) carrying the Fetch request's method, path, headers and streamed body. It has no peer:
 * `request.socket.remoteAddress` is undefined — behind a platform, read the client address from its
 * forwarding headers.
 */
export function incomingFromFetch(request: Request, url: URL): IncomingMessage {
  const message = new IncomingMessage(new Socket());
  message.method = request.method;
  message.url = url.pathname + url.search;
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => void (headers[name] = value));
  // Fetch runtimes may keep Host out of the headers; the same-origin check needs it.
  headers.host ??= url.host;
  message.headers = headers;
  message.rawHeaders = Object.entries(headers).flat();
  const body = request.body;
  if (!body) {
    message.complete = true;
    message.push(null);
    return message;
  }
  const reader = body.getReader();
  // The route reads at most its body limit and destroys the request beyond it: stop reading then.
  message.once('close', () => void reader.cancel().catch(() => {}));
  void (async () => {
    try {
      for (let chunk; !(chunk = await reader.read()).done; ) message.push(Buffer.from(chunk.value));
      message.complete = true;
      message.push(null);
    } catch (error) {
      message.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  })();
  return message;
}

/**
 * The `ServerResponse` subset the HTTP transports use, written into a Fetch `Response`: the
 * response settles at `writeHead` (a held long poll stays pending until then), and every `write`
 * becomes a chunk of its streaming body. `writableLength` counts the bytes the consumer has not
 * pulled yet, so the slow-consumer limit and liveness-by-bytes work as over `node:http`. `close` is
 * emitted once: after `end`, or when the client goes away (the request's signal aborts, or the body
 * is cancelled).
 */
export class FetchResponseWriter extends EventEmitter {
  statusCode = 200;
  /** Nothing to tune on a platform socket (`response.socket?.setNoDelay()` and the like are skipped). */
  readonly socket = null;
  readonly response: Promise<Response>;
  readonly #headers = new Headers();
  readonly #encoder = new TextEncoder();
  #settle!: (response: Response) => void;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #headersSent = false;
  #ended = false;
  #closed = false;

  constructor(signal: AbortSignal | undefined) {
    super();
    this.response = new Promise((resolve) => (this.#settle = resolve));
    signal?.addEventListener('abort', () => this.#gone(), { once: true });
    if (signal?.aborted) queueMicrotask(() => this.#gone());
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  get writableEnded(): boolean {
    return this.#ended;
  }

  /** Bytes written but not yet read by the consumer of the body. */
  get writableLength(): number {
    return Math.max(0, -(this.#controller?.desiredSize ?? 0));
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.#setHeader(name, value);
    return this;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders = {}): this {
    if (this.#headersSent) return this;
    this.#headersSent = true;
    this.statusCode = status;
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) this.#setHeader(name, value);
    if (NULL_BODY_STATUS.has(status)) {
      this.#settle(new Response(null, { status, headers: this.#headers }));
      return this;
    }
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => void (this.#controller = controller),
        cancel: () => this.#gone(),
      },
      // High-water mark 0: everything written counts as queued until the consumer pulls it.
      { highWaterMark: 0, size: (chunk) => chunk.byteLength },
    );
    this.#settle(new Response(body, { status, headers: this.#headers }));
    return this;
  }

  write(chunk: string | Uint8Array): boolean {
    if (!this.#headersSent) this.writeHead(this.statusCode);
    if (this.#ended || this.#closed || !this.#controller) return false;
    const bytes = typeof chunk === 'string' ? this.#encoder.encode(chunk) : chunk;
    if (bytes.byteLength) this.#controller.enqueue(bytes);
    return true;
  }

  end(chunk?: string | Uint8Array): this {
    if (this.#ended) return this;
    if (chunk !== undefined) this.write(chunk);
    else if (!this.#headersSent) this.writeHead(this.statusCode);
    this.#ended = true;
    if (!this.#closed) {
      try {
        this.#controller?.close();
      } catch {
        // already cancelled by the consumer
      }
    }
    this.emit('finish');
    queueMicrotask(() => this.#emitClose());
    return this;
  }

  /** The client went away before the end: the transports see `close` as on a cut socket. */
  #gone(): void {
    if (this.#closed) return;
    if (!this.#headersSent) this.writeHead(499);
    this.#ended = true;
    try {
      this.#controller?.error(new Error('the client went away'));
    } catch {
      // already closed
    }
    this.#emitClose();
  }

  #emitClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('close');
  }

  #setHeader(name: string, value: string | number | readonly string[]): void {
    const key = name.toLowerCase();
    if (PLATFORM_HEADERS.has(key)) return;
    this.#headers.delete(key);
    for (const v of Array.isArray(value) ? value : [value]) this.#headers.append(key, String(v));
  }

  /** The transports take a `ServerResponse`; this class implements every member they use (see the file comment). */
  asServerResponse(): ServerResponse {
    return this as unknown as ServerResponse;
  }
}

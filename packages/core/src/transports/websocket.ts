import { TidewireError } from '../errors';
import { closeCodeFromNumber } from '../protocol/frames';
import type { Transport, TransportContext, TransportEvents, TransportFactory, WebSocketConstructor, WebSocketLike } from '../transport';
import { withScheme } from '../transport';
import type { FrameLimitOptions } from './frame-limit';
import { frameLimit, frameTooLarge } from './frame-limit';

/** The `code` of the error `ws` reports for a message over its `maxPayload`. */
const WS_TOO_BIG = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

/** Options of `websocket()`. */
export interface WebSocketTransportOptions extends FrameLimitOptions {
  /** A WebSocket implementation, e.g. `ws` on Node 20. Defaults to the client's, then the global one. */
  WebSocket?: WebSocketConstructor;
}

/**
 * Where `ws` (Node) keeps its TCP socket. Browsers and undici expose nothing below whole
 * messages; with `ws` the transport can count bytes of a message still arriving as activity.
 */
interface ByteSource {
  on(event: 'data', listener: (chunk: { length: number }) => void): unknown;
  cork?(): void;
  uncork?(): void;
  writableLength?: number;
}
function byteSourceOf(socket: unknown): ByteSource | undefined {
  const raw = (socket as { _socket?: { on?: unknown } })._socket;
  return raw && typeof raw.on === 'function' ? (raw as ByteSource) : undefined;
}

/** Corked bytes past which a burst of sends is written out without waiting for the tick's end. */
const FLUSH_BYTES = 65_536;

/**
 * Where a `ws` socket and its TCP socket keep their line, for listeners shared by every
 * connection: Node calls them with `this` set to the emitter — always the real one, under any
 * Proxy of the WebSocket (a property set through a Proxy lands on its target). Why not a closure
 * per connection and event, nor a WeakMap: an idle client's heap is mostly such small objects
 * (five closures and their context, ~270 B, against one property; bench/idle-heap.ts).
 */
const LINE = Symbol('tidewire.line');
interface Tagged {
  [LINE]?: WebSocketLine;
}
function onActivity(this: Tagged, chunk: { length: number }): void {
  this[LINE]?.active_(chunk.length);
}
// ws: open(), message(data, isBinary) — a text message still a Buffer to decode —, error(Error), close(code, reason: Buffer).
function onWsOpen(this: Tagged): void {
  this[LINE]?.opened_();
}
function onWsMessage(this: Tagged, data: unknown, isBinary: boolean): void {
  this[LINE]?.received_(isBinary ? data : String(data));
}
function onWsError(this: Tagged, error: unknown): void {
  this[LINE]?.failed_(error);
}
function onWsClose(this: Tagged, code: number, reason: unknown): void {
  this[LINE]?.closed_(code, String(reason));
}
function uncork(line: WebSocketLine): void {
  line.uncork_();
}
const nextTick = (globalThis as { process?: { nextTick?: (fn: typeof uncork, line: WebSocketLine) => void } }).process?.nextTick;

/** One WebSocket connection, reporting to the connection through `events`. */
class WebSocketLine implements Transport {
  readonly #socket: WebSocketLike;
  readonly #events: TransportEvents;
  readonly #limit: number;
  #done = false;
  /** An error is always followed by a close event: reported once, from close, with the error as cause. */
  #error: unknown;
  #corked: ByteSource | undefined;

  constructor(socket: WebSocketLike, events: TransportEvents, limit: number) {
    this.#socket = socket;
    this.#events = events;
    this.#limit = limit;
  }

  opened_(): void {
    if (this.#done) return;
    const raw = byteSourceOf(this.#socket);
    if (raw) {
      (raw as Tagged)[LINE] = this;
      raw.on('data', onActivity);
    }
    this.#events.onOpen();
  }

  active_(bytes: number): void {
    if (!this.#done) this.#events.onActivity?.(bytes);
  }

  received_(text: unknown): void {
    if (this.#done) return;
    const events = this.#events; // (no activity of its own: each frame it holds is a sign of life)
    // Only a socket without maxPayload (a browser's) gets here with a longer message (in characters,
    // never more than its bytes): it was buffered already, but the line ends as with `ws`.
    if (typeof text === 'string' && text.length > this.#limit) return this.tooBig_();
    if (typeof text !== 'string') return events.onInvalid?.('a binary WebSocket message (the protocol sends text frames only)');
    // `lines` (protocol §17.4): several frames in one message; JSON text never holds a raw newline.
    // Most messages hold one frame: no array is made for it (fan-out profile, issue 14).
    if (!text.includes('\n')) return events.onFrame(text);
    for (const frame of text.split('\n')) events.onFrame(frame);
  }

  failed_(ev: unknown): void {
    this.#error = ev;
    // `ws` refused a message over maxPayload without buffering it (its close code may not reach us: it stops reading).
    // (`ws` events give the Error itself; its DOM-style `onerror` an event holding it)
    const failure = ev as { code?: unknown; error?: { code?: unknown } } | undefined;
    if ((failure?.error?.code ?? failure?.code) === WS_TOO_BIG) this.tooBig_();
  }

  closed_(code: number, reason: string): void {
    if (this.#done) return;
    this.#done = true;
    // `code` stays undefined for a close code that is not ours (1006: the network dropped).
    this.#events.onClose({ code: closeCodeFromNumber(code), message: reason || `websocket closed (${code})`, cause: this.#error });
  }

  /** A message over the limit: reported as the HTTP transports do (`invalid_frame`), then the line ends. */
  tooBig_(): void {
    const { reason, error: cause } = frameTooLarge('a WebSocket message', this.#limit);
    this.#events.onInvalid?.(reason); // while connecting, the connection ends the line on this report
    if (this.#done) return;
    this.close();
    this.#events.onClose({ message: `websocket: ${reason}`, cause });
  }

  /**
   * `socket.send`, with the frames sent in one tick leaving in one write where that is possible (`ws`
   * in Node: its TCP socket can be corked until `process.nextTick`, which runs once the synchronous code
   * and its microtasks are done). Why: publishes awaiting acks resume together when a read brings
   * their acks; sent one write each, a publishing client spent a tenth of its CPU in `writev` (cluster
   * benchmark profile). A burst is handed to the socket every {@link FLUSH_BYTES}, so corking never holds
   * more than that back and a long loop streams out as it runs. Browsers give no access below whole messages: plain send.
   */
  send(frame: string): void {
    const raw = byteSourceOf(this.#socket);
    if (!this.#corked && nextTick && raw?.cork) {
      raw.cork();
      this.#corked = raw;
      nextTick(uncork, this);
    }
    this.#socket.send(frame);
    const corked = this.#corked;
    if (corked && corked.writableLength! > FLUSH_BYTES) {
      corked.uncork!();
      corked.cork!();
    }
  }

  uncork_(): void {
    const corked = this.#corked;
    this.#corked = undefined;
    corked?.uncork!();
  }

  close(): void {
    this.#done = true;
    const socket = this.#socket;
    // Every listener checks `done`. A no-op error handler stays: `ws` emits an error when a connecting
    // socket is closed, and an EventEmitter error without a listener would crash the process.
    socket.onopen = socket.onmessage = socket.onclose = null;
    socket.onerror = () => {};
    // Closing a CONNECTING socket throws in some implementations; swallow it, we are leaving anyway.
    try {
      socket.close(1000);
    } catch {
      /* already gone */
    }
  }
}

/**
 * WebSocket transport: one JSON text frame per message; the token travels in the first frame, never the URL.
 * Each message counts as activity (with `ws` in Node, each TCP chunk does); a binary message is
 * not a frame of ours and is reported through `onInvalid`. `ws` is given `maxFrameBytes` as its
 * `maxPayload`, so a longer message is never buffered; it closes the line (`invalid_frame`), and the
 * client reconnects. Browsers buffer a message whole before we see it: one over the limit is reported the same way.
 *
 * @param options `WebSocket`: an implementation (e.g. `ws` on Node 20) instead of the client's or the global one;
 *   `maxFrameBytes`: the largest message read (default 64 MiB, see frame-limit.ts)
 * @returns the transport factory to list in `createClient({ transports })`
 * @throws TidewireError `invalid_options` when `maxFrameBytes` is not a positive integer; `transport_error`
 *   from `open()` when no WebSocket implementation is available
 */
export function websocket(options: WebSocketTransportOptions = {}): TransportFactory {
  return new WebSocketTransport(options);
}

/** `websocket()`'s factory: `open` on the prototype, so no closure per factory (apps make one per client). */
class WebSocketTransport implements TransportFactory {
  readonly name = 'websocket';
  readonly #WebSocket: WebSocketConstructor | undefined;
  readonly #limit: number;

  constructor(options: WebSocketTransportOptions) {
    this.#WebSocket = options.WebSocket;
    this.#limit = frameLimit(options); // a bad maxFrameBytes throws here, where the app wrote it
  }

  open(context: TransportContext, events: TransportEvents): Transport {
    const limit = this.#limit;
    const WS = this.#WebSocket ?? context.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) {
      throw new TidewireError(
        'transport_error',
        'No WebSocket implementation found. On Node 20 install `ws` and pass it: createClient({ url, WebSocket }).',
      );
    }
    // A third argument is `ws`'s options (its own default maxPayload is 100 MiB); browsers ignore it.
    const socket = new (WS as unknown as new (url: string, protocols: undefined, options: { maxPayload: number }) => WebSocketLike)(
      withScheme(context.url, 'ws'),
      undefined,
      { maxPayload: limit },
    );
    // `ws` (Node): its own events, not the DOM-style `onX` attributes, which wrap each handler in a
    // listener of their own (~430 B a connection, measured by bench/idle-heap.ts) and build a
    // MessageEvent per message (measurable in a push and in a 1,000-client fan-out process).
    // `_isServer`: a field every `ws` socket has, so another class with an `on` method keeps the DOM path.
    // Listeners shared by every line, finding theirs on the socket (see LINE): an app's Proxy around
    // the socket registers them through the proxy while `ws` emits on the socket itself.
    const emitter = socket as unknown as Tagged & { on?: (event: string, listener: (...args: never[]) => void) => unknown };
    const line = new WebSocketLine(socket, events, limit);
    if (typeof emitter.on === 'function' && '_isServer' in emitter) {
      emitter[LINE] = line;
      emitter.on('open', onWsOpen);
      emitter.on('message', onWsMessage);
      emitter.on('error', onWsError);
      emitter.on('close', onWsClose);
    } else {
      socket.onopen = () => line.opened_();
      socket.onmessage = (ev) => line.received_(ev.data);
      socket.onerror = (ev) => line.failed_(ev);
      socket.onclose = (ev) => line.closed_(ev.code, ev.reason);
    }
    return line;
  }
}

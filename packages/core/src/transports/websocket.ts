import { TidewireError } from '../errors';
import { closeCodeFromNumber } from '../protocol/frames';
import type { Transport, TransportFactory, WebSocketConstructor, WebSocketLike } from '../transport';
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
  on(event: 'data', listener: () => void): unknown;
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
 * `socket.send`, with the frames sent in one tick leaving in one write where that is possible (`ws`
 * in Node: its TCP socket can be corked until `process.nextTick`, which runs once the synchronous code
 * and its microtasks are done). Why: publishes awaiting acks resume together when a read brings
 * their acks; sent one write each, a publishing client spent a tenth of its CPU in `writev` (cluster
 * benchmark profile). A burst is handed to the socket every {@link FLUSH_BYTES}, so corking never holds
 * more than that back and a long loop streams out as it runs. Browsers give no access below whole messages: plain send.
 */
function tickBatchedSend(socket: WebSocketLike): (frame: string) => void {
  const nextTick = (globalThis as { process?: { nextTick?: (fn: () => void) => void } }).process?.nextTick;
  let corked: ByteSource | undefined;
  return (frame) => {
    const raw = byteSourceOf(socket);
    if (!corked && nextTick && raw?.cork) {
      raw.cork();
      corked = raw;
      nextTick(() => {
        corked = undefined;
        raw.uncork!();
      });
    }
    socket.send(frame);
    if (corked && corked.writableLength! > FLUSH_BYTES) {
      corked.uncork!();
      corked.cork!();
    }
  };
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
  const limit = frameLimit(options); // a bad maxFrameBytes throws here, where the app wrote it
  return {
    name: 'websocket',
    open(context, events) {
      const WS = options.WebSocket ?? context.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
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
      let done = false;
      // A message over the limit: reported as the HTTP transports do (`invalid_frame`), then the line ends.
      const tooBig = (): void => {
        const { reason, error: cause } = frameTooLarge('a WebSocket message', limit);
        events.onInvalid?.(reason); // while connecting, the connection ends the line on this report
        if (done) return;
        line.close();
        events.onClose({ message: `websocket: ${reason}`, cause });
      };
      const onOpen = (): void => {
        if (done) return;
        byteSourceOf(socket)?.on('data', () => !done && events.onActivity?.());
        events.onOpen();
      };
      /** `isBinary` comes from `ws` only: there a text message is a Buffer still to decode. */
      const receive = (data: unknown, isBinary?: boolean): void => {
        if (done) return;
        events.onActivity?.();
        const text = isBinary === false ? String(data) : data;
        // Only a socket without maxPayload (a browser's) gets here with a longer message (in characters,
        // never more than its bytes): it was buffered already, but the line ends as with `ws`.
        if (typeof text === 'string' && text.length > limit) return tooBig();
        if (typeof text !== 'string') return events.onInvalid?.('a binary WebSocket message (the protocol sends text frames only)');
        // `lines` (protocol §17.4): several frames in one message; JSON text never holds a raw newline.
        for (const frame of text.split('\n')) events.onFrame(frame);
      };
      // An error is always followed by a close event; report once, from close, with the error as cause.
      let error: unknown;
      const onError = (ev: unknown): void => {
        error = ev;
        // `ws` refused a message over maxPayload without buffering it (its close code may not reach us: it stops reading).
        // (`ws` events give the Error itself; its DOM-style `onerror` an event holding it)
        const failure = ev as { code?: unknown; error?: { code?: unknown } } | undefined;
        if ((failure?.error?.code ?? failure?.code) === WS_TOO_BIG) tooBig();
      };
      const onClose = (code: number, reason: unknown): void => {
        if (done) return;
        done = true;
        // `code` stays undefined for a close code that is not ours (1006: the network dropped).
        events.onClose({ code: closeCodeFromNumber(code), message: String(reason) || `websocket closed (${code})`, cause: error });
      };
      // `ws` (Node): its own events, not the DOM-style `onX` attributes, which wrap each handler in a
      // listener of their own (~430 B a connection, measured by bench/idle-heap.ts) and build a
      // MessageEvent per message (measurable in a push and in a 1,000-client fan-out process).
      // `_isServer`: a field every `ws` socket has, so another class with an `on` method keeps the DOM path.
      const emitter = socket as unknown as { on?: (event: string, listener: (...args: never[]) => void) => unknown };
      const nodeEvents = typeof emitter.on === 'function' && '_isServer' in emitter;
      if (nodeEvents) {
        // `ws` emits: open(), message(data, isBinary), error(Error), close(code, reason: Buffer).
        for (const [event, listener] of [['open', onOpen], ['message', receive], ['error', onError], ['close', onClose]] as const) emitter.on!(event, listener);
      } else {
        socket.onopen = onOpen;
        socket.onmessage = (ev) => receive(ev.data);
        socket.onerror = onError;
        socket.onclose = (ev) => onClose(ev.code, ev.reason);
      }
      const line: Transport = {
        send: tickBatchedSend(socket),
        close() {
          done = true;
          // `ws`: every listener checks `done`, and the error listener stays — `ws` emits an error when a
          // connecting socket is closed, and an EventEmitter error without a listener would crash the process.
          if (!nodeEvents) {
            socket.onopen = socket.onmessage = socket.onclose = null;
            socket.onerror = () => {}; // (an EventEmitter underneath would crash on an error without one)
          }
          // Closing a CONNECTING socket throws in some implementations; swallow it, we are leaving anyway.
          try {
            socket.close(1000);
          } catch {
            /* already gone */
          }
        },
      };
      return line;
    },
  };
}

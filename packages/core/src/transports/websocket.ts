import { TidewireError } from '../errors';
import { closeCodeFromNumber } from '../protocol/frames';
import type { TransportFactory, WebSocketConstructor } from '../transport';
import { withScheme } from '../transport';

/** Options of `websocket()`. */
export interface WebSocketTransportOptions {
  /** A WebSocket implementation, e.g. `ws` on Node 20. Defaults to the client's, then the global one. */
  WebSocket?: WebSocketConstructor;
}

/**
 * Where `ws` (Node) keeps its TCP socket. Browsers and undici expose nothing below whole
 * messages; with `ws` the transport can count bytes of a message still arriving as activity.
 */
interface ByteSource {
  on(event: 'data', listener: () => void): unknown;
}
function byteSourceOf(socket: unknown): ByteSource | undefined {
  const raw = (socket as { _socket?: { on?: unknown } })._socket;
  return raw && typeof raw.on === 'function' ? (raw as ByteSource) : undefined;
}

/**
 * WebSocket transport: one JSON text frame per message; the token travels in the first frame, never the URL.
 * Each message counts as activity (with `ws` in Node, each TCP chunk does); a binary message is
 * not a frame of ours and is reported through `onInvalid`.
 *
 * @param options `WebSocket`: an implementation (e.g. `ws` on Node 20) instead of the client's or the global one
 * @returns the transport factory to list in `createClient({ transports })`
 * @throws TidewireError `transport_error` from `open()` when no WebSocket implementation is available
 */
export function websocket(options: WebSocketTransportOptions = {}): TransportFactory {
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
      const socket = new WS(withScheme(context.url, 'ws'));
      let done = false;
      socket.onopen = () => {
        if (done) return;
        byteSourceOf(socket)?.on('data', () => !done && events.onActivity?.());
        events.onOpen();
      };
      const receive = (text: unknown): void => {
        if (done) return;
        events.onActivity?.();
        if (typeof text === 'string') events.onFrame(text);
        else events.onInvalid?.('a binary WebSocket message (the protocol sends text frames only)');
      };
      // `ws` (Node): its own 'message' event, not the DOM-style `onmessage`, which builds a MessageEvent
      // per message (measurable in a push and in a 1,000-client fan-out process). Browsers: `onmessage`.
      const emitter = socket as unknown as { on?: (event: 'message', listener: (data: { toString(): string }, isBinary: boolean) => void) => unknown };
      // `_isServer`: a field every `ws` socket has, so another class with an `on` method keeps the DOM path.
      if (typeof emitter.on === 'function' && '_isServer' in emitter) emitter.on('message', (data, isBinary) => receive(isBinary ? data : data.toString()));
      else socket.onmessage = (ev) => receive(ev.data);
      // An error is always followed by a close event; report once, from close, with the error as cause.
      let error: unknown;
      socket.onerror = (ev) => {
        error = ev;
      };
      socket.onclose = (ev) => {
        if (done) return;
        done = true;
        // `code` stays undefined for a close code that is not ours (1006: the network dropped).
        events.onClose({ code: closeCodeFromNumber(ev.code), message: ev.reason || `websocket closed (${ev.code})`, cause: error });
      };
      return {
        send: (frame) => socket.send(frame),
        close() {
          done = true;
          socket.onopen = socket.onmessage = socket.onclose = null;
          // Keep a no-op error handler: `ws` emits an error when a connecting socket is closed,
          // and an EventEmitter error without a listener would crash the process.
          socket.onerror = () => {};
          // Closing a CONNECTING socket throws in some implementations; swallow it, we are leaving anyway.
          try {
            socket.close(1000);
          } catch {
            /* already gone */
          }
        },
      };
    },
  };
}

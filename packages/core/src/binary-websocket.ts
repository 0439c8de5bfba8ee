import { bytesOf } from './binary-base64';
import { BINARY_FEATURE, binaryFrameToText, textToBinaryFrame } from './binary-frame';
import type { TransportEvents, TransportFactory, WebSocketConstructor, WebSocketLike } from './transport';
import { websocket, type WebSocketTransportOptions } from './transports/websocket';

/**
 * Where the binary capability stands on one socket: `fresh` until the `connect` frame leaves
 * (it gets `features: ["binary"]`), `asked` until `connected` answers, then `on` or `off`.
 */
type Negotiation = 'fresh' | 'asked' | 'on' | 'off';

/** Marks a `{"$b64":"…"}` envelope in a frame's text: only such frames are worth parsing on the way out. */
const ENVELOPE_MARK = '{"$b64":"';

/**
 * The WebSocket transport with binary frames (protocol §17.2): `websocket()` speaking through a
 * socket that asks for the `binary` feature in `connect` and, once the server lists it in
 * `connected.features`, sends each `publish`/`rpc` whose data is bytes as a binary frame and turns
 * each binary frame from the server back into the text frame it stands for. With a server that does
 * not list the feature (an older one) everything stays text. Use it with a codec that produces
 * bytes: `binary()` (this entry) or `msgpack()` from `@tidewire/core/msgpack`.
 *
 * Kept out of `websocket()` so apps that never send bytes do not ship it.
 *
 * @param options `WebSocket`: an implementation (e.g. `ws` on Node 20) instead of the client's or the global one;
 *   `maxFrameBytes`: the largest message read, as for `websocket()` (a binary frame's text form counts, as for `maxPayload`)
 * @returns the transport factory to list in `createClient({ transports })`
 * @throws TidewireError `transport_error` from `open()` when no WebSocket implementation is available
 * @example
 * ```ts
 * import { binary, binaryWebSocket } from '@tidewire/core/binary';
 * import { sse } from '@tidewire/core/sse';
 * const client = createClient({ url, codec: binary(), transports: [binaryWebSocket(), sse()] });
 * await client.publish('files', new Uint8Array([1, 2, 3])); // one binary WebSocket frame
 * ```
 */
export function binaryWebSocket(options: WebSocketTransportOptions = {}): TransportFactory {
  // Only the frame bound is passed on: the socket class comes through the context, wrapped.
  const inner = websocket({ maxFrameBytes: options.maxFrameBytes });
  return {
    name: 'websocket',
    open(context, events) {
      const WS = options.WebSocket ?? context.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      // No implementation: the plain transport throws its actionable error.
      return inner.open({ ...context, ...(WS && { WebSocket: binaryFramed(WS, events) }) }, events);
    },
  };
}

type MessageHandler = ((event: { data: unknown }) => void) | null;

/**
 * A WebSocket class whose sockets translate between text frames (what `websocket()` and the
 * connection see) and binary frames (what travels, once negotiated). Each attempt gets its own.
 */
function binaryFramed(WS: WebSocketConstructor, events: TransportEvents): WebSocketConstructor {
  return class BinaryFramedSocket implements WebSocketLike {
    readonly #socket: WebSocketLike;
    #negotiation: Negotiation = 'fresh';
    #onmessage: MessageHandler = null;

    constructor(url: string, protocols?: string | string[], init?: unknown) {
      // `init`: `ws`'s options (`maxPayload`, the frame bound `websocket()` sets), passed on as given.
      this.#socket = new (WS as new (url: string, protocols?: string | string[], init?: unknown) => WebSocketLike)(url, protocols, init);
      // Whole messages as ArrayBuffer in browsers (their default, Blob, would need an async read) and in `ws`.
      (this.#socket as { binaryType?: string }).binaryType = 'arraybuffer';
    }

    get readyState(): number {
      return this.#socket.readyState;
    }
    get bufferedAmount(): number {
      return this.#socket.bufferedAmount;
    }
    /** `ws`'s TCP socket, which `websocket()` watches for bytes of a message still arriving. */
    get _socket(): unknown {
      return (this.#socket as { _socket?: unknown })._socket;
    }
    get onopen(): WebSocketLike['onopen'] {
      return this.#socket.onopen;
    }
    set onopen(handler: WebSocketLike['onopen']) {
      this.#socket.onopen = handler;
    }
    get onclose(): WebSocketLike['onclose'] {
      return this.#socket.onclose;
    }
    set onclose(handler: WebSocketLike['onclose']) {
      this.#socket.onclose = handler;
    }
    get onerror(): WebSocketLike['onerror'] {
      return this.#socket.onerror;
    }
    set onerror(handler: WebSocketLike['onerror']) {
      this.#socket.onerror = handler;
    }
    get onmessage(): MessageHandler {
      return this.#onmessage;
    }
    set onmessage(handler: MessageHandler) {
      this.#onmessage = handler;
      this.#socket.onmessage = handler && ((event) => this.#receive(handler, event.data));
    }

    #receive(handler: (event: { data: unknown }) => void, data: unknown): void {
      if (typeof data === 'string') {
        if (this.#negotiation === 'asked') this.#negotiation = binaryAccepted(data);
        return handler({ data });
      }
      // Not negotiated: hand it on, and `websocket()` reports it as not a frame of ours.
      if (this.#negotiation !== 'on') return handler({ data });
      // An ArrayBuffer (binaryType above); anything else unreadable becomes 0 bytes: refused as truncated.
      const decoded = binaryFrameToText(bytesOf(data) ?? new Uint8Array(0), 'server');
      if (decoded.ok) return handler({ data: decoded.text });
      events.onInvalid?.(decoded.reason); // not a sign of life (its bytes counted already where `ws` shows them)
    }

    send(text: string): void {
      const socket = this.#socket as { send(data: string | Uint8Array): void };
      if (this.#negotiation === 'fresh') {
        this.#negotiation = 'asked';
        return socket.send(askForBinary(text));
      }
      const frame = this.#negotiation === 'on' && text.includes(ENVELOPE_MARK) ? textToBinaryFrame(text, 'client') : undefined;
      socket.send(frame ?? text);
    }

    close(code?: number, reason?: string): void {
      this.#socket.close(code, reason);
    }
  };
}

/** The first frame sent is `connect`: list the `binary` feature in it (any other text goes as it is). */
function askForBinary(text: string): string {
  try {
    const frame = JSON.parse(text) as { type?: unknown; features?: unknown };
    if (frame.type !== 'connect') return text;
    const features = Array.isArray(frame.features) ? frame.features : [];
    return JSON.stringify({ ...frame, features: [...features, BINARY_FEATURE] });
  } catch {
    return text;
  }
}

/** Whether the server's answer to `connect` lists `binary`; `asked` while the frame is something else. */
function binaryAccepted(text: string): Negotiation {
  try {
    const frame = JSON.parse(text) as { type?: unknown; features?: unknown };
    if (frame.type !== 'connected') return 'asked';
    return Array.isArray(frame.features) && frame.features.includes(BINARY_FEATURE) ? 'on' : 'off';
  } catch {
    return 'asked';
  }
}

import { decode, encode, ExtensionCodec, type DecoderOptions, type EncoderOptions } from '@msgpack/msgpack';
import { fromBase64, isByteBuffer, isBytesEnvelope, toBase64, type BytesEnvelope } from './binary-base64';
import { TidewireError } from './errors';
import type { PayloadCodec } from './payload-codec';

/** Options of {@link msgpack}: passed to `@msgpack/msgpack`'s `encode` and `decode` (e.g. an `extensionCodec`). */
export interface MsgpackCodecOptions {
  readonly encoder?: EncoderOptions;
  readonly decoder?: DecoderOptions;
}

/**
 * The MessagePack payload codec (`@tidewire/core/msgpack`, protocol §17.3), built on the optional
 * peer `@msgpack/msgpack`. Payload-level, not frame-level: every `publish`/`rpc` data is encoded
 * as one MessagePack document and travels as bytes — raw in a binary WebSocket frame with
 * `binaryWebSocket()` from `@tidewire/core/binary`, as the `{"$b64": …}` envelope on SSE, long
 * polling and plain `websocket()`. Frames themselves stay JSON, so the server needs nothing: it
 * stores and forwards the bytes like any other. Every client of a channel must use this codec
 * to read its data (a client without it sees bytes); a server that publishes to such a channel
 * sends {@link msgpackBytes}`(value)` as its data.
 *
 * Data may be anything MessagePack encodes: JSON values plus `Uint8Array`/typed arrays (as
 * `bin`, decoded as `Uint8Array`), `Date` (as a timestamp); an `ArrayBuffer`, a `SharedArrayBuffer` or a `Blob` at the
 * top level is sent as its bytes; an object that is exactly the protocol's bytes envelope
 * `{ $b64: string }` counts as encoded already and is sent as it is. Received data that is not a MessagePack document (JSON from a
 * client without the codec, an envelope that does not decode) is delivered as it came.
 *
 * @param options encoder and decoder options for `@msgpack/msgpack`
 * @returns a {@link PayloadCodec} for `createClient({ codec })`
 * @throws nothing itself; a publish of data MessagePack cannot encode (a function, a symbol, a
 *   `BigInt`, a cycle, a `Map` or a `Set` — which the library would send as `{}`) rejects with a
 *   `TidewireError` of code `bad_request`
 * @example
 * ```ts
 * import { msgpack } from '@tidewire/core/msgpack';
 * import { binaryWebSocket } from '@tidewire/core/binary';
 * const client = createClient({ url, codec: msgpack(), transports: [binaryWebSocket()] });
 * client.channel('telemetry').on('message', (m) => draw(m.data)); // { t: Date, samples: Uint8Array }
 * await client.publish('telemetry', { t: new Date(), samples: new Uint8Array([1, 2, 3]) });
 * ```
 */
export function msgpack(options: MsgpackCodecOptions = {}): PayloadCodec {
  const pack = (data: unknown): BytesEnvelope | Promise<never> => {
    try {
      return { $b64: toBase64(msgpackBytes(data, options.encoder)) };
    } catch (cause) {
      return Promise.reject(new TidewireError('bad_request', 'data cannot be encoded as MessagePack', { cause }));
    }
  };
  return {
    encode(data) {
      if (typeof Blob !== 'undefined' && data instanceof Blob) return data.arrayBuffer().then(pack);
      // The protocol reserves this shape for bytes, and the client hands what a promise resolved
      // to (a Blob's envelope) through the codec once more: encoded already, it stays as it is.
      if (isBytesEnvelope(data)) return data;
      return pack(data);
    },
    decode(data) {
      if (!isBytesEnvelope(data)) return data;
      try {
        return decode(fromBase64(data.$b64), options.decoder);
      } catch {
        return data; // not MessagePack (or not base64): hand it over as it came rather than lose it
      }
    },
  };
}

/**
 * The bytes that `msgpack()` clients read as `value`: what a server (or a client without the
 * codec) publishes to a MessagePack channel.
 * @param value anything MessagePack encodes (see {@link msgpack})
 * @param options `@msgpack/msgpack` encoder options, the same as the clients' codec uses
 * @returns one MessagePack document
 * @throws Error from `@msgpack/msgpack` when `value` holds something it cannot encode (a function, a symbol),
 *   TypeError for a `Map` or a `Set` (unless `options.extensionCodec` handles them)
 * @example
 * ```ts
 * import { msgpackBytes } from '@tidewire/core/msgpack';
 * await server.publish('telemetry', msgpackBytes({ t: new Date(), samples: new Uint8Array([1, 2]) }));
 * ```
 */
export function msgpackBytes(value: unknown, options?: EncoderOptions): Uint8Array {
  // MessagePack knows views, not bare buffers: a top-level (Shared)ArrayBuffer is sent as its bytes.
  const extensionCodec = options?.extensionCodec ?? (collectionsRefused ??= refusingCollections());
  return encode(isByteBuffer(value) ? new Uint8Array(value) : value, { ...options, extensionCodec });
}

let collectionsRefused: ExtensionCodec | undefined;

/**
 * `@msgpack/msgpack` encodes a `Map` or a `Set` as an empty map (their entries are not own
 * properties): the data would arrive as `{}`, silently. Refused instead (`bad_request` on publish),
 * unless the app gives its own `extensionCodec` (which then decides).
 */
function refusingCollections(): ExtensionCodec {
  const codec = new ExtensionCodec();
  codec.register({
    type: 0,
    encode(input) {
      if (input instanceof Map || input instanceof Set) {
        throw new TypeError(`a ${input instanceof Map ? 'Map' : 'Set'} has no MessagePack form here (it would arrive as {}): send an object or an array, or give msgpack() an extensionCodec`);
      }
      return null;
    },
    decode: (data) => data,
  });
  return codec;
}

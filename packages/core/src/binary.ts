import { bytesOf, fromBase64, isBytesEnvelope, toBase64, type BytesEnvelope } from './binary-base64';
import { TidewireError } from './errors';
import type { PayloadCodec } from './payload-codec';

export { bytesOf, fromBase64, isBytesEnvelope, toBase64, type BytesEnvelope } from './binary-base64';
export {
  BINARY_FEATURE,
  binaryFrameText,
  binaryFrameToText,
  encodeBinaryFrame,
  parseBinaryHeader,
  splitBinaryFrame,
  textToBinaryFrame,
  type BinaryFrameParts,
  type BinaryHeader,
} from './binary-frame';
export { binaryWebSocket } from './binary-websocket';

/**
 * Binary payloads (`@tidewire/core/binary`, protocol §17): `createClient({ codec: binary() })`
 * lets `publish` and `rpc` take a `Uint8Array`, an `ArrayBuffer` (or any typed-array view) or a
 * `Blob`, and delivers bytes to `message` listeners as a `Uint8Array`, on every transport.
 *
 * On the wire bytes travel as the JSON value `{"$b64":"<standard base64>"}` (the protocol's bytes
 * envelope): text-safe on SSE and long polling, stored and replayed by any broker like any other
 * message, and counted against `maxPayload` by its encoded size (4/3 of the bytes, plus 10).
 * With `binaryWebSocket()` instead of `websocket()`, and a server that negotiates the `binary`
 * feature, the same frames cross the WebSocket as binary frames with the bytes raw (§17.2).
 */


/**
 * How many containers deep `binary()` looks for bytes inside the data. Bytes 62 levels in become
 * an envelope at the frame's 64th level (the frame is level 1, `data` level 2), the reference
 * server's default `maxDepth`: deeper, it would refuse the frame anyway. The bound also keeps a
 * cyclic value from recursing forever.
 */
const MAX_NESTING = 62;

/** Thrown inside the walk; becomes the publish's `bad_request`. */
class NotEncodable extends Error {}

/** Only plain objects and arrays are looked into: a class instance (a Date, a Map) is JSON's business. */
function isPlainContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * `value` with every bytes value in it — at the top or nested in plain objects and arrays — as the
 * bytes envelope. Returns `value` itself when it holds no bytes (nothing is copied).
 */
function encodeNested(value: unknown, depth: number, base64: (bytes: Uint8Array) => string = toBase64): unknown {
  const bytes = bytesOf(value);
  if (bytes) return { $b64: base64(bytes) } satisfies BytesEnvelope;
  if (typeof Blob !== 'undefined' && value instanceof Blob) throw new NotEncodable('a Blob nested in the data cannot be read: publish it on its own, or its bytes');
  if (!isPlainContainer(value) || isBytesEnvelope(value)) return value;
  if (depth >= MAX_NESTING) throw new NotEncodable(`data nests deeper than ${MAX_NESTING} levels`);
  return mapContainer(value, (v) => encodeNested(v, depth + 1, base64));
}

/**
 * `value` with every bytes value in it — at the top or nested in plain objects and arrays — as the
 * bytes envelope (protocol §17), as `binary()` sends it: what the reference server does with data
 * it is handed (`server.publish`, rpc results, `onPublish`'s `{ data }`). `value` itself when it
 * holds no bytes.
 * @param base64 the encoder (default: the portable `btoa` one; Node may pass `Buffer`'s, faster)
 * @throws Error for a Blob nested in it, or nesting deeper than 62 levels
 * @example `withEnvelopes({ name: 'a.png', bytes })` → `{ name: 'a.png', bytes: { $b64: '…' } }`
 */
export function withEnvelopes(value: unknown, base64?: (bytes: Uint8Array) => string): unknown {
  return encodeNested(value, 0, base64);
}

/** `value` with every bytes envelope in it, at any depth, as a `Uint8Array` (an envelope that is not base64 stays as it came). */
function decodeNested(value: unknown, depth: number): unknown {
  if (isBytesEnvelope(value)) {
    try {
      return fromBase64(value.$b64);
    } catch {
      return value; // not base64: hand it over as it came rather than lose it
    }
  }
  if (!isPlainContainer(value) || depth >= MAX_NESTING) return value;
  return mapContainer(value, (v) => decodeNested(v, depth + 1));
}

/** A copy of an array or object with `f` applied to each item, or the container itself when `f` changed nothing. */
function mapContainer(container: Record<string, unknown> | unknown[], f: (item: unknown) => unknown): unknown {
  if (Array.isArray(container)) {
    let copy: unknown[] | undefined;
    container.forEach((item, i) => {
      const mapped = f(item);
      if (mapped !== item) (copy ??= container.slice())[i] = mapped;
    });
    return copy ?? container;
  }
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(container)) {
    const item = container[key];
    const mapped = f(item);
    // Defined, not assigned: an own `__proto__` key (JSON.parse makes them) must stay a key.
    if (mapped !== item) Object.defineProperty((copy ??= { ...container }), key, { value: mapped, writable: true, enumerable: true, configurable: true });
  }
  return copy ?? container;
}

/**
 * The binary payload codec. Bytes may be the data itself or nested in plain objects and arrays
 * (`{ name: 'a.png', bytes }`), as with `msgpack()`: each travels as its own bytes envelope and
 * arrives as a `Uint8Array` in the same place (only a top-level value crosses a binary WebSocket
 * frame raw, §17.2). Anything else passes through unchanged, both ways; an envelope whose text is
 * not base64 is delivered as it came (never a throw in delivery).
 * @returns a {@link PayloadCodec} for `createClient({ codec })`
 * @throws nothing itself; a publish whose data nests bytes deeper than 62 containers (or is cyclic),
 *   or holds a `Blob` other than at the top level, rejects with a `TidewireError` of code `bad_request`
 * @example
 * ```ts
 * import { binary } from '@tidewire/core/binary';
 * const client = createClient({ url, codec: binary() });
 * client.channel('files').on('message', (m) => m.data instanceof Uint8Array && save(m.data));
 * await client.publish('files', new Uint8Array([1, 2, 3]));
 * await client.publish('files', fileInput.files[0]); // a Blob: read first, then queued
 * await client.publish('files', { name: 'a.png', bytes: new Uint8Array([1, 2, 3]) }); // nested: arrives as a Uint8Array too
 * ```
 */
export function binary(): PayloadCodec {
  return {
    encode(data) {
      if (typeof Blob !== 'undefined' && data instanceof Blob) {
        return data.arrayBuffer().then((buffer) => ({ $b64: toBase64(new Uint8Array(buffer)) }) satisfies BytesEnvelope);
      }
      try {
        return encodeNested(data, 0);
      } catch (cause) {
        const message = cause instanceof NotEncodable ? cause.message : 'data cannot be encoded';
        return Promise.reject(new TidewireError('bad_request', message, { cause }));
      }
    },
    decode(data) {
      return decodeNested(data, 0);
    },
  };
}

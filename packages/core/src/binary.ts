import { bytesOf, fromBase64, isBytesEnvelope, toBase64, type BytesEnvelope } from './binary-base64';
import type { PayloadCodec } from './payload-codec';

export { fromBase64, isBytesEnvelope, toBase64, type BytesEnvelope } from './binary-base64';
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
 * The binary payload codec. Anything that is not bytes passes through unchanged, both ways; an
 * envelope whose text is not base64 is delivered as it came (never a throw in delivery).
 * @returns a {@link PayloadCodec} for `createClient({ codec })`
 * @example
 * ```ts
 * import { binary } from '@tidewire/core/binary';
 * const client = createClient({ url, codec: binary() });
 * client.channel('files').on('message', (m) => m.data instanceof Uint8Array && save(m.data));
 * await client.publish('files', new Uint8Array([1, 2, 3]));
 * await client.publish('files', fileInput.files[0]); // a Blob: read first, then queued
 * ```
 */
export function binary(): PayloadCodec {
  return {
    encode(data) {
      const bytes = bytesOf(data);
      if (bytes) return { $b64: toBase64(bytes) } satisfies BytesEnvelope;
      if (typeof Blob !== 'undefined' && data instanceof Blob) {
        return data.arrayBuffer().then((buffer) => ({ $b64: toBase64(new Uint8Array(buffer)) }) satisfies BytesEnvelope);
      }
      return data;
    },
    decode(data) {
      if (!isBytesEnvelope(data)) return data;
      try {
        return fromBase64(data.$b64);
      } catch {
        return data; // not base64: hand it over as it came rather than lose it
      }
    },
  };
}

import type { PayloadCodec } from './payload-codec';

/**
 * Binary payloads (`@tidewire/core/binary`, protocol §17): `createClient({ codec: binary() })`
 * lets `publish` and `rpc` take a `Uint8Array`, an `ArrayBuffer` (or any typed-array view) or a
 * `Blob`, and delivers bytes to `message` listeners as a `Uint8Array`, on every transport.
 *
 * On the wire bytes travel as the JSON value `{"$b64":"<standard base64>"}` (the protocol's bytes
 * envelope): text-safe on SSE and long polling, stored and replayed by any broker like any other
 * message, and counted against `maxPayload` by its encoded size (4/3 of the bytes, plus 10).
 */

/** The protocol's bytes envelope: `data` that is exactly `{ "$b64": string }` is bytes. */
export interface BytesEnvelope {
  readonly $b64: string;
}

/** Characters of base64 built per `String.fromCharCode` call: stays well under engines' argument limits. */
const CHUNK = 0x8000;

/**
 * Standard base64 (RFC 4648 §4, with padding) of `bytes`.
 * @param bytes any length, 0 included
 */
export function toBase64(bytes: Uint8Array): string {
  let binaryText = '';
  for (let i = 0; i < bytes.length; i += CHUNK) binaryText += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binaryText);
}

/**
 * Bytes of standard base64 text.
 * @throws DOMException `InvalidCharacterError` when `text` is not base64
 */
export function fromBase64(text: string): Uint8Array {
  const binaryText = atob(text);
  const bytes = new Uint8Array(binaryText.length);
  for (let i = 0; i < binaryText.length; i++) bytes[i] = binaryText.charCodeAt(i);
  return bytes;
}

/** Whether `data` is the bytes envelope (exactly one own key, `$b64`, holding a string). */
export function isBytesEnvelope(data: unknown): data is BytesEnvelope {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
  const keys = Object.keys(data);
  return keys.length === 1 && keys[0] === '$b64' && typeof (data as BytesEnvelope).$b64 === 'string';
}

const bytesOf = (data: unknown): Uint8Array | undefined => {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
};

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

/**
 * The protocol's bytes envelope and the base64 it holds (protocol §17): shared by the `binary()`
 * and `msgpack()` codecs and the binary WebSocket frame.
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

/**
 * Whether `data` is a whole buffer of bytes: an `ArrayBuffer`, or a `SharedArrayBuffer` where the
 * runtime has one (browsers without cross-origin isolation do not) — not a view of one.
 * @param data any value
 */
export function isByteBuffer(data: unknown): data is ArrayBuffer | SharedArrayBuffer {
  return data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer);
}

/**
 * The bytes of a `Uint8Array` (returned as is), an `ArrayBuffer`, a `SharedArrayBuffer` or any
 * typed-array view or `DataView` (only the viewed bytes, not copied), or undefined for anything
 * else. Every place that takes "bytes" (the codecs, the binary frame, the server's envelope)
 * asks this one function, so they all agree on what bytes are.
 * @param data any value
 * @returns a `Uint8Array` over the same memory, or undefined when `data` is not bytes
 * @example
 * ```ts
 * import { bytesOf } from '@tidewire/core/binary';
 * bytesOf(new Uint16Array([1])); // Uint8Array [1, 0] (on a little-endian machine)
 * bytesOf({ length: 1 }); // undefined
 * ```
 */
export function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (isByteBuffer(data)) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/**
 * Bytes in payloads (protocol §17): on the wire, and so in every broker and in history, bytes are
 * the JSON value `{"$b64":"<standard base64>"}`; clients with the `binary()` codec turn it back
 * into a `Uint8Array`. The server never decodes it: it stores and forwards the envelope as is.
 */

import { bytesOf as viewBytes } from '@tidewire/core/binary';

/** The protocol's bytes envelope. */
export interface BytesEnvelope {
  readonly $b64: string;
}

/**
 * `data` as it travels: a `Uint8Array` (a `Buffer` included), an `ArrayBuffer`, a
 * `SharedArrayBuffer` or any typed-array view or `DataView` becomes the bytes envelope; anything else is returned unchanged.
 * @param data what `server.publish` (or an rpc handler) was given
 */
export function toWireData(data: unknown): unknown {
  // What counts as bytes is the client's rule (core's bytesOf), so a SharedArrayBuffer is bytes on both sides.
  const bytes = viewBytes(data);
  if (!bytes) return data;
  return { $b64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') } satisfies BytesEnvelope;
}

/**
 * The bytes of an envelope (what a client published with the `binary()` codec), or undefined
 * when `data` is not one — for `onPublish` and rpc handlers that inspect binary payloads.
 * @example `const bytes = bytesOf(data); if (bytes && bytes.length > 1e6) throw new PublishRefusal('too big', 'too_large');`
 */
export function bytesOf(data: unknown): Buffer | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const keys = Object.keys(data);
  if (keys.length !== 1 || keys[0] !== '$b64' || typeof (data as BytesEnvelope).$b64 !== 'string') return undefined;
  return Buffer.from((data as BytesEnvelope).$b64, 'base64');
}

/**
 * Bytes in payloads (protocol §17): on the wire, and so in every broker and in history, bytes are
 * the JSON value `{"$b64":"<standard base64>"}`; clients with the `binary()` codec turn it back
 * into a `Uint8Array`. The server never decodes it: it stores and forwards the envelope as is.
 */

import { withEnvelopes } from '@tidewire/core/binary';

/** The protocol's bytes envelope. */
export interface BytesEnvelope {
  readonly $b64: string;
}

/**
 * `data` as it travels: every bytes value in it — a `Uint8Array` (a `Buffer` included), an
 * `ArrayBuffer`, a `SharedArrayBuffer`, any typed-array view or `DataView`, at the top or nested in
 * plain objects and arrays (`{ name, bytes }`) — becomes the bytes envelope, as the client's
 * `binary()` codec sends it (core's `withEnvelopes`: one rule on both sides). Nested, JSON would
 * have made a `Uint8Array` an object of indices and a `Buffer` `{ type, data }`, silently.
 * @param data what `server.publish` (or an rpc handler, or `onPublish`) was given
 * @returns `data` itself when it holds no bytes; unchanged when it nests too deep to look into
 *   (the JSON check that follows refuses it as `invalid_data`)
 */
const bufferBase64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

export function toWireData(data: unknown): unknown {
  try {
    return withEnvelopes(data, bufferBase64);
  } catch {
    return data;
  }
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

import { fromBase64, isBytesEnvelope, toBase64 } from './binary-base64';

/**
 * The binary WebSocket frame (protocol §17.2). When both ends negotiated the `binary` feature, a
 * frame whose `data` is bytes (a `publish` or `rpc` from a client; a `message` or `result` from
 * the server) may travel as one binary WebSocket message instead of text with a base64 envelope:
 *
 * ```
 * offset 0   4 bytes   N, the header's length in bytes (unsigned, big-endian)
 * offset 4   N bytes   the header: the frame as UTF-8 JSON, without its `data` field
 * offset 4+N the rest  the payload: `data`'s bytes, raw (0 bytes allowed)
 * ```
 *
 * It is exactly the text frame `{...header, "data": {"$b64": base64(payload)}}`: both ends turn
 * one into the other at the WebSocket boundary, so everything above it (outbox, brokers, history,
 * SSE and long-poll clients) keeps seeing the bytes envelope.
 */

/** The capability name: a client lists it in `connect.features`, the server echoes it in `connected.features`. */
export const BINARY_FEATURE = 'binary';

/** Bytes of the length prefix. */
const PREFIX = 4;

/** Frame types that may travel as binary frames, per direction. */
const CLIENT_BINARY_TYPES: readonly string[] = ['publish', 'rpc'];
const SERVER_BINARY_TYPES: readonly string[] = ['message', 'result'];

/**
 * Assemble a binary frame.
 * @param header the frame without `data`, as JSON text
 * @param payload the bytes of `data`
 * @returns the frame's bytes
 */
export function encodeBinaryFrame(header: string, payload: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(header);
  const frame = new Uint8Array(PREFIX + head.length + payload.length);
  new DataView(frame.buffer).setUint32(0, head.length);
  frame.set(head, PREFIX);
  frame.set(payload, PREFIX + head.length);
  return frame;
}

/** A binary frame taken apart: the header's JSON text and the payload (a view, not a copy). */
export type BinaryFrameParts = { ok: true; header: string; payload: Uint8Array } | { ok: false; reason: string };

/**
 * Take a binary frame apart, checking only its layout (the header's JSON is the caller's to parse,
 * with whatever depth limit it applies). Never throws.
 * @param frame one binary WebSocket message
 * @returns the header text and payload, or why the layout is wrong
 */
export function splitBinaryFrame(frame: Uint8Array): BinaryFrameParts {
  if (frame.length < PREFIX) return { ok: false, reason: `binary frame is truncated: ${frame.length} bytes, the header length alone takes ${PREFIX}` };
  const length = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0);
  if (length > frame.length - PREFIX) {
    return { ok: false, reason: `binary frame header length ${length} runs past the frame (${frame.length - PREFIX} bytes after the length)` };
  }
  let header: string;
  try {
    header = new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(PREFIX, PREFIX + length));
  } catch {
    return { ok: false, reason: 'binary frame header is not valid UTF-8' };
  }
  return { ok: true, header, payload: frame.subarray(PREFIX + length) };
}

/** A header parsed and checked: a JSON object of an allowed type with no `data` of its own. */
export type BinaryHeader = { ok: true; header: Record<string, unknown> } | { ok: false; reason: string };

/**
 * Parse a binary frame's header text and check it may head a binary frame in this direction.
 * @param text the header's JSON text (the caller has already bounded its nesting)
 * @param from who sent the frame: decides which frame types are allowed
 */
export function parseBinaryHeader(text: string, from: 'client' | 'server'): BinaryHeader {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'binary frame header is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'binary frame header is not a JSON object' };
  const header = value as Record<string, unknown>;
  const allowed = from === 'client' ? CLIENT_BINARY_TYPES : SERVER_BINARY_TYPES;
  if (typeof header.type !== 'string' || !allowed.includes(header.type)) {
    return { ok: false, reason: `binary frame type ${JSON.stringify(header.type)} cannot carry bytes (allowed: ${allowed.join(', ')})` };
  }
  if (Object.hasOwn(header, 'data')) return { ok: false, reason: 'binary frame header has a "data" field: the payload is the data' };
  return { ok: true, header };
}

/**
 * The text frame a binary frame stands for: its header with `data` set to the bytes envelope.
 * @param header a header {@link parseBinaryHeader} accepted
 * @param base64 the payload, already in standard base64
 */
export function binaryFrameText(header: Record<string, unknown>, base64: string): string {
  return JSON.stringify({ ...header, data: { $b64: base64 } });
}

/**
 * The binary frame a text frame can travel as, or undefined when it cannot: not a JSON object,
 * not a type `from` may send as binary, or `data` not the bytes envelope. Never throws.
 * @param text an encoded frame
 * @param from who sends it
 */
export function textToBinaryFrame(text: string, from: 'client' | 'server'): Uint8Array | undefined {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof frame !== 'object' || frame === null) return undefined;
  const { data, ...header } = frame as Record<string, unknown>;
  const allowed = from === 'client' ? CLIENT_BINARY_TYPES : SERVER_BINARY_TYPES;
  if (!allowed.includes(header.type as string) || !isBytesEnvelope(data)) return undefined;
  let payload: Uint8Array;
  try {
    payload = fromBase64(data.$b64);
  } catch {
    return undefined; // not base64: it goes as the text it is
  }
  return encodeBinaryFrame(JSON.stringify(header), payload);
}

/**
 * The text frame a binary frame from the server stands for, or why it is not one.
 * @param frame one binary WebSocket message
 */
export function binaryFrameToText(frame: Uint8Array, from: 'client' | 'server'): { ok: true; text: string } | { ok: false; reason: string } {
  const parts = splitBinaryFrame(frame);
  if (!parts.ok) return parts;
  const parsed = parseBinaryHeader(parts.header, from);
  if (!parsed.ok) return parsed;
  return { ok: true, text: binaryFrameText(parsed.header, toBase64(parts.payload)) };
}

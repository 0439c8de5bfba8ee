import { binaryFrameText, parseBinaryHeader, splitBinaryFrame } from '@tidewire/core/binary';
import type { ClientFrame, PublishFrame } from '@tidewire/core/protocol';
import { jsonTextNestsTooDeep, jsonTextTooDeep } from './depth';
import { peekId } from './encode';
import { parseClientFrame, type ParseResult } from './protocolSchema';

/** The limits every inbound frame is checked against before anything acts on it. */
export interface InboundLimits {
  /** Deepest nesting of objects/arrays in a frame (the frame object is level 1). */
  readonly maxDepth: number;
  /** Longest `id` (publish, subscribe, refresh), in UTF-16 code units. */
  readonly maxIdLength: number;
}

/**
 * Turn one frame text from a client into a frame, or say exactly why not. Everything that
 * could fail later is refused here, at the door: nesting too deep to re-encode, ids too long to
 * remember, any shape the protocol's zod schema does not accept. Never throws.
 * @param text one frame, already within the size limit
 * @returns the frame, or the reason for the `bad_request`
 */
export function decodeInbound(text: string, limits: InboundLimits): ParseResult<ClientFrame> {
  // Before parsing: measured on the text by a loop, so no depth can overflow the stack here or later.
  if (jsonTextNestsTooDeep(text, limits.maxDepth)) return { ok: false, reason: `frame nests deeper than maxDepth (${limits.maxDepth} levels)` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'frame is not valid JSON' };
  }
  const parsed = plainPublish(value) ?? parseClientFrame(value);
  if (parsed.ok && 'id' in parsed.frame && parsed.frame.id.length > limits.maxIdLength) {
    return { ok: false, reason: `frame "${parsed.frame.type}": id: longer than maxIdLength (${limits.maxIdLength} characters)` };
  }
  return parsed;
}

/**
 * The hot frame, checked by hand: a `publish` with a string `id` and `channel` and a `data` key is
 * exactly what the zod schema accepts for it, and the frame returned holds exactly the fields zod's
 * output holds (extra fields dropped). Anything else — another type, a missing or mistyped field —
 * is left to the schema, which accepts or refuses it with its precise reason. zod's discriminated
 * union cost ~1.5 µs of the server's ~14 µs per publish (in-process micro-benchmark); a property test
 * (packages/server/test/inbound-fast-path.test.ts) proves both agree on every generated frame.
 * @param value the result of `JSON.parse` of one frame
 * @returns the publish frame, or undefined when the schema must decide
 */
export function plainPublish(value: unknown): { ok: true; frame: PublishFrame } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { type, id, channel, data } = value as Record<string, unknown>;
  if (type !== 'publish' || typeof id !== 'string' || typeof channel !== 'string' || data === undefined) return undefined;
  return { ok: true, frame: { type, id, channel, data } };
}

/** A binary WebSocket frame as the text frame it stands for, or why it is not one (protocol §17.2). */
export type BinaryInbound = { ok: true; text: string } | { ok: false; reason: string; id?: string };

/**
 * Turn one binary WebSocket frame from a client (negotiated `binary` feature) into the text frame it
 * stands for: its header with `data` set to the payload's bytes envelope, which `decodeInbound`
 * then checks like any other frame — so brokers, history and SSE/long-poll subscribers see the
 * same envelope whatever transport the publisher used. The header's nesting is bounded before it
 * is parsed. Never throws.
 * @param frame the binary message, already within the hard size limit
 * @returns the text frame, or the reason for the `bad_request` (with the header's `id` when readable)
 */
export function binaryInboundToText(frame: Uint8Array, limits: InboundLimits): BinaryInbound {
  const parts = splitBinaryFrame(frame);
  if (!parts.ok) return parts;
  // Bounded before parsing, as a text frame is (decodeInbound checks the whole frame again after).
  if (jsonTextTooDeep(parts.header, limits.maxDepth)) return { ok: false, reason: `binary frame header nests deeper than maxDepth (${limits.maxDepth} levels)` };
  const parsed = parseBinaryHeader(parts.header, 'client');
  if (!parsed.ok) return { ...parsed, ...idOf(parts.header) };
  const payload = Buffer.from(parts.payload.buffer, parts.payload.byteOffset, parts.payload.byteLength);
  return { ok: true, text: binaryFrameText(parsed.header, payload.toString('base64')) };
}

/** The header's `id`, when it is JSON with a plausible one: the refusal then answers that request. */
function idOf(header: string): { id?: string } {
  const id = peekId(header);
  return id === undefined ? {} : { id };
}

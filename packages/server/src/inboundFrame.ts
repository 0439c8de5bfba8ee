import type { ClientFrame } from '@tidewire/core/protocol';
import { jsonTextTooDeep } from './depth';
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
  if (jsonTextTooDeep(text, limits.maxDepth)) return { ok: false, reason: `frame nests deeper than maxDepth (${limits.maxDepth} levels)` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'frame is not valid JSON' };
  }
  const parsed = parseClientFrame(value);
  if (parsed.ok && 'id' in parsed.frame && parsed.frame.id.length > limits.maxIdLength) {
    return { ok: false, reason: `frame "${parsed.frame.type}": id: longer than maxIdLength (${limits.maxIdLength} characters)` };
  }
  return parsed;
}

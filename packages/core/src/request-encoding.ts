import { TidewireError } from './errors';
import type { PublishFrame, RpcFrame } from './protocol/frames';
import { encodeFrame, fitsByteLimit } from './protocol/codec';

/**
 * A request frame as the text that goes on the line, or why it cannot go. Refusals are returned,
 * never thrown, so `publish`/`rpc()` reject instead of throwing at the caller.
 * @param maxPayload the server's announced frame limit in bytes (Infinity before its first `connected`)
 * @returns the JSON text; a `bad_request` error when the data is not a JSON value (undefined, a
 *   function, a symbol) or cannot be encoded as JSON (circular, BigInt, nested past the engine's stack); a `too_large` error when the text is over `maxPayload`
 */
export function encodeRequest(frame: PublishFrame | RpcFrame, maxPayload: number): string | TidewireError {
  const { type, id } = frame;
  // JSON.stringify would drop these without a word (the frame would go without its data, refused by the server's schema).
  const kind = typeof frame.data;
  if (kind === 'undefined' || kind === 'function' || kind === 'symbol') return new TidewireError('bad_request', `${type} data must be a JSON value, not ${kind}`, { context: { id } });
  let text: string;
  try {
    text = encodeFrame(frame);
  } catch (cause) {
    return new TidewireError('bad_request', `${type} data cannot be encoded as JSON`, { cause, context: { id } });
  }
  if (!fitsByteLimit(text, maxPayload)) {
    return new TidewireError('too_large', `${type} is larger than the server's limit of ${maxPayload} bytes`, {
      context: type === 'rpc' ? { method: frame.method, id } : { channel: frame.channel, id },
    });
  }
  return text;
}

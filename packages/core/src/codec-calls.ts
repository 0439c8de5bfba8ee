import type { TidewireError } from './errors';
import { isTidewireError } from './errors';
import { isThenable, listenerError } from './isolate';
import type { PayloadCodec } from './payload-codec';
import type { MessageFrame, ServerFrame } from './protocol/frames';
import type { UnusableMessage } from './unusable-message';

/**
 * The payload codec (`createClient({ codec })`) as the SDK calls it: app code, isolated and its
 * answers checked, both ways. A failure ends the one message or request it was called for, never
 * the frame handling or `publish()` around it (docs/errors.md, `listener_error`).
 */

/** `codec.decode(data)`, checked: `undefined` or a thenable is a failure too (delivery is synchronous and a frame never carries `undefined`). */
function decodeChecked(codec: PayloadCodec, data: unknown): unknown {
  const decoded = codec.decode(data);
  if (decoded === undefined || isThenable(decoded)) throw new TypeError(`decode() answered ${decoded === undefined ? 'undefined' : 'a thenable'}`);
  return decoded;
}

/**
 * A frame's payloads (message, rpc result, history page) through the codec, isolated: a codec
 * that throws or answers garbage fails on this frame only, as a `listener_error`
 * (`context.callback: 'codec'`, `method: 'decode'`, the frame's `id`, and `channel`, `offset`).
 * @returns the frame decoded; a message the codec failed on as an {@link UnusableMessage} (consumed
 *   at its offset); for an rpc result or a history page the `listener_error` (its request fails).
 */
export function decodeFrame(frame: ServerFrame, codec: PayloadCodec): ServerFrame | TidewireError {
  if ((frame as Partial<UnusableMessage>).unusable_) return frame; // nothing to decode: no usable data came
  try {
    if (frame.type === 'message' || frame.type === 'result') return { ...frame, data: decodeChecked(codec, frame.data) };
    if (frame.type === 'history_page') return { ...frame, messages: frame.messages.map((m) => ({ ...m, data: decodeChecked(codec, m.data) })) };
    return frame;
  } catch (cause) {
    const { id, channel, offset } = frame as Partial<MessageFrame>;
    const error = listenerError('codec', cause, { method: 'decode', channel, offset, id });
    return frame.type === 'message' ? ({ ...frame, data: undefined, unusable_: error } as UnusableMessage) : error;
  }
}

/**
 * `codec.encode(data)` as `publish`/`rpc` call it: never throws. A throw, a rejection or an
 * answer of `undefined` is the publish's rejection — the codec's own `TidewireError` as it is (the
 * built-in codecs reject `bad_request`), anything else a `listener_error` (`context.callback:
 * 'codec'`, `method: 'encode'`). Any thenable counts as asynchronous, not only a native Promise.
 * @param context added to the `listener_error`'s context (the request's id)
 * @returns the encoded data, or a native promise of it (rejecting as above)
 */
export function encodePayload(codec: PayloadCodec, data: unknown, context: Readonly<Record<string, unknown>>): unknown {
  const failed = (cause: unknown): Promise<never> =>
    Promise.reject(isTidewireError(cause) ? cause : listenerError('codec', cause, { method: 'encode', ...context }));
  const checked = (encoded: unknown): unknown => (encoded === undefined ? failed(new TypeError('encode() answered undefined')) : encoded);
  let encoded: unknown;
  try {
    encoded = codec.encode(data);
  } catch (cause) {
    return failed(cause);
  }
  return isThenable(encoded) ? Promise.resolve(encoded).then(checked, failed) : checked(encoded);
}

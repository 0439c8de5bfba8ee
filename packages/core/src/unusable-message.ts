import type { TidewireError } from './errors';
import { ProtocolError } from './errors';
import { CodecFailure, decodePayload } from './codec-calls';
import type { PayloadCodec } from './payload-codec';
import type { MessageFrame } from './protocol/frames';

/**
 * A message whose identity is intact (channel, epoch, offset, id) but whose content the client
 * cannot use: the frame has no `data` (or an invalid `skip`), or the payload codec failed on it. It is
 * CONSUMED at its offset like a message that fails its schema (docs/errors.md): reported on the
 * client's `error` and the channel's, and delivery goes on with the next offset. Dropping it
 * instead would leave a hole that history refills with the same frame, forever.
 */
export interface UnusableMessage extends MessageFrame {
  /** Why it cannot be delivered: `invalid_frame` (the frame) or `listener_error` (the codec). */
  readonly unusable_: TidewireError;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A frame the protocol check refused, read again for its position: a `message` frame whose
 * `channel`, `epoch`, `offset` and `id` are valid, so only its content is not. One whose identity
 * is broken too is not trusted with an offset (it could shadow the real message there). Only
 * called on the failure path (rare), so parsing the text a second time costs nothing on the hot path.
 * @param text the frame's text
 * @param reason why it was refused (`decodeServerFrame`'s reason)
 * @returns the message to consume at its offset, or undefined when its identity is broken
 *   (then it stays "dropped and reported").
 */
export function readUnusableMessage(text: string, reason: string): UnusableMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(value) || value.type !== 'message') return undefined;
  const { channel, epoch, offset, id } = value;
  if (typeof channel !== 'string' || typeof epoch !== 'string' || typeof id !== 'string' || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return undefined;
  const frame: MessageFrame = { type: 'message', channel, epoch, offset, id, data: undefined };
  const error = new ProtocolError('invalid_frame', `the server sent an invalid frame: ${reason}; message ${offset} of "${channel}" is skipped`, {
    context: { channel, offset, id: frame.id, frame: text.slice(0, 200) },
  });
  return { ...frame, unusable_: error };
}

/**
 * A message frame's data through the payload codec, isolated: a codec whose `decode` throws, or
 * answers `undefined` or a thenable (delivery is synchronous), fails on this message only.
 * @returns the frame with its data decoded, or the message to consume at its offset with a
 *   `listener_error` (`context.callback: 'codec'`, `method: 'decode'`, channel, offset, id).
 */
export function decodeMessage(frame: MessageFrame, codec: PayloadCodec): MessageFrame {
  if ((frame as Partial<UnusableMessage>).unusable_) return frame; // nothing to decode: no usable data came
  const data = decodePayload(codec, frame.data, { channel: frame.channel, offset: frame.offset, id: frame.id });
  if (data instanceof CodecFailure) return { ...frame, data: undefined, unusable_: data.error_ } as UnusableMessage;
  return { ...frame, data };
}

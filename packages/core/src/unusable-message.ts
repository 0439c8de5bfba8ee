import type { TidewireError } from './errors';
import { ProtocolError } from './errors';
import type { MessageFrame } from './protocol/frames';

/**
 * A message whose identity is intact (channel, epoch, offset, id) but whose content the client
 * cannot use: the frame has no `data` (or an invalid `skip`), or the payload codec failed on it.
 * It is CONSUMED at its offset like a message that fails its schema (docs/errors.md): reported on
 * the client's `error` and the channel's, and delivery goes on with the next offset. Dropping it
 * instead would leave a hole that history refills with the same frame, forever.
 */
export interface UnusableMessage extends MessageFrame {
  /** Why it cannot be delivered: `invalid_frame` (the frame) or `listener_error` (the codec). */
  readonly unusable_: TidewireError;
}

/**
 * A frame the protocol check refused, as the connection hands it on: an `invalid_frame`
 * `ProtocolError` (`context.frame`: its first 200 characters) to report — or, on a live line, a
 * message whose identity is intact (see {@link readMessageIdentity}) carrying that error (with
 * `context.channel`, `offset`, `id`), for its channel to consume at its offset. Dropped, such a
 * message would leave a hole that history refills with the same frame, forever.
 * @param reason why the check refused it
 * @param connected whether a line is up (while connecting, garbage means a failed attempt)
 */
export function invalidFrame(text: string, reason: string, connected: boolean): ProtocolError | UnusableMessage {
  const message = connected ? readMessageIdentity(text) : undefined;
  const error = new ProtocolError('invalid_frame', `the server sent an invalid frame: ${reason}`, {
    context: { frame: text.slice(0, 200), ...(message && { channel: message.channel, offset: message.offset, id: message.id }) },
  });
  return message ? { ...message, unusable_: error } : error;
}

/**
 * The identity of a `message` frame the protocol check refused: its `channel`, `epoch`, `offset`
 * and `id`, when all four are valid (so only its content is not). One whose identity is broken is
 * not trusted with an offset: it could shadow the real message there. Called on the failure path
 * only (rare), so parsing the text a second time costs nothing on the hot path.
 * @returns the frame without data, or undefined when it is not a message or its identity is broken
 */
export function readMessageIdentity(text: string): MessageFrame | undefined {
  try {
    const { type, channel, epoch, offset, id } = JSON.parse(text) as Record<string, unknown>;
    if (type === 'message' && typeof channel === 'string' && typeof epoch === 'string' && typeof id === 'string' && Number.isSafeInteger(offset) && (offset as number) >= 0) {
      return { type, channel, epoch, offset: offset as number, id, data: undefined };
    }
  } catch {
    // not JSON, or JSON null: no identity to read
  }
  return undefined;
}

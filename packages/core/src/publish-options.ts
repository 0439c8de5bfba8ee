import { TidewireError } from './errors';

/** Options of `channel.publish(data, options)` and `client.publish(channel, data, options)`. */
export interface PublishOptions {
  /**
   * Idempotency key, 1–64 characters: the server stores a publish with an id it already stored
   * (on that channel, within its dedupe window) once, and acks the retry with the first position.
   * Pass the same id when retrying a publish that rejected `timeout`. Default: a random 128-bit id.
   */
  readonly id?: string;
}

/** Longest publish id the server keeps in its dedupe window (protocol §7). */
export const MAX_PUBLISH_ID_LENGTH = 64;

/** The error for an id the server would refuse, or undefined when `id` is absent or valid. */
export function validatePublishId(id: unknown): TidewireError | undefined {
  if (id === undefined) return undefined;
  if (typeof id === 'string' && id.length > 0 && id.length <= MAX_PUBLISH_ID_LENGTH) return undefined;
  return new TidewireError('bad_request', `a publish id must be a string of 1 to ${MAX_PUBLISH_ID_LENGTH} characters`, { context: { id } });
}

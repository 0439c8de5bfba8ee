import type { TidewireError } from './errors';
import { isTidewireError } from './errors';
import { listenerError } from './isolate';
import type { PayloadCodec } from './payload-codec';

/**
 * The payload codec (`createClient({ codec })`) as the SDK calls it: app code, isolated and its
 * answers checked, both ways. A failure ends the one message or request it was called for, never
 * the frame handling or `publish()` around it (docs/errors.md, `listener_error`).
 */

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

/** What {@link decodePayload} answers when the codec failed: a class, so no payload can be mistaken for it. */
export class CodecFailure {
  constructor(readonly error_: TidewireError) {}
}

/**
 * `codec.decode(data)` as app code: isolated and checked.
 * @param context added to the `listener_error`'s context (channel, offset, id; or the rpc's id)
 * @returns the decoded data, or a {@link CodecFailure} holding the `listener_error`.
 */
export function decodePayload(codec: PayloadCodec, data: unknown, context: Readonly<Record<string, unknown>>): unknown {
  let decoded: unknown;
  try {
    decoded = codec.decode(data);
  } catch (cause) {
    return new CodecFailure(listenerError('codec', cause, { method: 'decode', ...context }));
  }
  if (decoded === undefined || isThenable(decoded)) {
    const what = decoded === undefined ? 'undefined' : 'a thenable (decoding must be synchronous)';
    return new CodecFailure(listenerError('codec', new TypeError(`codec.decode() answered ${what}`), { method: 'decode', ...context }));
  }
  return decoded;
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
  const checked = (encoded: unknown): unknown => (encoded === undefined ? failed(new TypeError('codec.encode() answered undefined')) : encoded);
  let encoded: unknown;
  try {
    encoded = codec.encode(data);
  } catch (cause) {
    return failed(cause);
  }
  return isThenable(encoded) ? Promise.resolve(encoded).then(checked, failed) : checked(encoded);
}

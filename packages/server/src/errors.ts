import { brand } from '@tidewire/core/protocol';

/**
 * Errors the server throws to its host application (never to clients: clients
 * get `error`/`close` frames). `code` is stable; match on it, not on `message`.
 */
export type ServerErrorCode =
  | 'invalid_options' // createServer() was given options that fail validation
  | 'invalid_channel' // a server-side publish() named a channel isChannel() rejects
  | 'invalid_data' // a server-side publish() was given data that is not JSON or nests deeper than limits.maxDepth - 1
  | 'closed'; // the server was closed

/**
 * An error the server throws to its host application, with a stable `code`: `invalid_options`
 * (createServer), `invalid_channel` / `invalid_data` (server.publish), `closed` (after `close()`).
 */
export class TidewireServerError extends Error {
  override readonly name = 'TidewireServerError';
  readonly code: ServerErrorCode;

  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * True for a {@link TidewireServerError}, from this copy of `@tidewire/server` or another one (its
 * CJS build next to its ESM build, a second version): a `Symbol.for` brand as well as `instanceof`.
 * @param e - anything caught.
 * @returns whether `e` is a TidewireServerError (then `e.code` is there).
 */
export const isTidewireServerError: (e: unknown) => e is TidewireServerError = brand(TidewireServerError, 'tidewire.server-error');

/**
 * Errors the server throws to its host application (never to clients: clients
 * get `error`/`close` frames). `code` is stable; match on it, not on `message`.
 */
export type ServerErrorCode =
  | 'invalid_options' // createServer() was given options that fail validation
  | 'invalid_channel' // a server-side publish() named a channel isChannel() rejects
  | 'invalid_data' // a server-side publish() was given data that is not JSON or nests deeper than limits.maxDepth - 1
  | 'closed'; // the server was closed

export class TidewireServerError extends Error {
  override readonly name = 'TidewireServerError';
  readonly code: ServerErrorCode;

  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export const isTidewireServerError = (e: unknown): e is TidewireServerError => e instanceof TidewireServerError;

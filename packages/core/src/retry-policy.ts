import type { CloseCode } from './protocol/frames';

/**
 * The one place that decides whether a lost connection is worth another try.
 * `undefined` means the network failed without the server saying why: always retry.
 */
export function isFatalClose(code: CloseCode | undefined): boolean {
  return code === 'forbidden' || code === 'unsupported_version' || code === 'normal' || code === 'forbidden_origin';
}

/**
 * The close code an HTTP refusal stands for, from the `code` in the server's JSON error body
 * (`{"error":{"code":…}}`), or undefined when the answer should count as a plain network failure.
 * Only answers that say the same about the server whatever transport asks are taken: a refused
 * Origin (fatal: retrying cannot help), a server going away, a body too large. `forbidden` is not —
 * it also means "this transport is disabled here", where the client must fall back instead.
 */
export function closeCodeFromRefusal(code: unknown): CloseCode | undefined {
  return code === 'forbidden_origin' || code === 'going_away' || code === 'too_large' ? code : undefined;
}

/** Codes that a fresh token may cure: one reconnect with `getToken({ reason: 'expired' })`, then fatal. */
export function needsNewToken(code: CloseCode | undefined): boolean {
  return code === 'unauthorized' || code === 'token_expired';
}

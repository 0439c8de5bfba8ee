import type { CloseCode } from './protocol/frames';

/**
 * The one place that decides whether a lost connection is worth another try.
 * `undefined` means the network failed without the server saying why: always retry.
 */
export function isFatalClose(code: CloseCode | undefined): boolean {
  return code === 'forbidden' || code === 'unsupported_version' || code === 'normal';
}

/** Codes that a fresh token may cure: one reconnect with `getToken({ reason: 'expired' })`, then fatal. */
export function needsNewToken(code: CloseCode | undefined): boolean {
  return code === 'unauthorized' || code === 'token_expired';
}

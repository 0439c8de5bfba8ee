/**
 * Why the test kit refused or gave up. Stable; branch on `code`, never on `message`.
 * - `invalid_options`: a kit call got an argument it cannot use (negative time, an unknown client,
 *   a history-less restart of a server whose broker the app supplied).
 * - `not_settled`: the in-memory network or the clock never came to rest (a timer or a frame loop
 *   that keeps scheduling itself) within the kit's step budget.
 * - `closed`: the kit was closed; make a new one.
 */
export type TestKitErrorCode = 'invalid_options' | 'not_settled' | 'closed';

/** Thrown (or rejected) by `@tidewire/testing` itself — never by the client or server under test. */
export class TestKitError extends Error {
  override readonly name = 'TestKitError';
  readonly code: TestKitErrorCode;

  /**
   * @param code stable reason, see {@link TestKitErrorCode}
   * @param message what went wrong, for people
   */
  constructor(code: TestKitErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

import { TidewireError } from './errors';

/**
 * Where an exception thrown by app code goes: the owning client's `error` event.
 * A reporter must never throw itself.
 */
export type ReportError = (error: TidewireError) => void;

/**
 * The last resort for an exception that has nowhere else to go (e.g. one thrown by a client
 * `error` listener: reporting it on `error` again would recurse). It reaches the host's
 * global error handling — `window.onerror`, Node's `uncaughtException` — without unwinding
 * the SDK code that called the listener: `reportError` where the platform has it (browsers,
 * Deno, Bun), else a rethrow from a fresh task.
 */
export function reportUncaught(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === 'function') {
    try {
      report(error);
      return;
    } catch {
      // fall through: a broken reportError must not swallow the error
    }
  }
  // setTimeout, not queueMicrotask: a rethrow in a microtask would still run before the SDK
  // finished the current frame on some hosts; a new task never can.
  globalThis.setTimeout(() => {
    throw error;
  }, 0);
}

/**
 * The error reported when app code throws: stable code `listener_error`, the thrown value
 * as `cause`, and `context.callback` naming what was called (`'message'`, `'state'`,
 * `'subscribe'`, `'schema'`, `'getToken'`, `'backoff'`…) plus e.g. `channel`.
 */
export function listenerError(callback: string, cause: unknown, context: Readonly<Record<string, unknown>> = {}): TidewireError {
  const where = typeof context.channel === 'string' ? ` on "${context.channel}"` : '';
  const what = cause instanceof Error ? cause.message : String(cause);
  return new TidewireError('listener_error', `a ${callback} callback${where} threw: ${what}`, {
    cause,
    context: { callback, ...context },
  });
}

/**
 * Call app code so that a throw cannot unwind the SDK: the exception is handed to `report`
 * as a `listener_error` and the caller carries on as if the callback had returned.
 * Returns the callback's result, or `undefined` when it threw.
 *
 * @param report where the `listener_error` goes; a throw inside `report` goes to {@link reportUncaught}.
 * @param callback what is being called, for `context.callback` (e.g. `'message'`).
 * @param context extra context, e.g. `{ channel }`.
 */
export function callSafely<A extends unknown[], R>(
  report: ReportError,
  callback: string,
  context: Readonly<Record<string, unknown>>,
  fn: (...args: A) => R,
  ...args: A
): R | undefined {
  try {
    return fn(...args);
  } catch (cause) {
    reportThrow(report, callback, cause, context);
    return undefined;
  }
}

/**
 * Hand what app code threw to `report` as a `listener_error` (see {@link listenerError}); a throw
 * inside `report` goes to {@link reportUncaught}. Never throws.
 */
export function reportThrow(report: ReportError, callback: string, cause: unknown, context?: Readonly<Record<string, unknown>>): void {
  const error = listenerError(callback, cause, context);
  try {
    report(error);
  } catch (again) {
    reportUncaught(again);
  }
}

/** Whether app code answered something asynchronous: any object with a `then` method, not only a native Promise. */
export const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

/**
 * Where a client keeps the reporter its dependants (a ChannelView, a PresenceView) send listener
 * errors to: a symbol-keyed getter on its prototype (see {@link reportsTo}), not a side table — a
 * WeakMap entry was ~50 B of every idle client's heap (bench/idle-heap.ts).
 */
const REPORTER = Symbol('tidewire.reporter');

/**
 * Make the instances of `owner` (a client class) report their dependants' listener errors to what `report` returns for each.
 * @param proto the class's prototype
 * @param report the instance's reporter (its `error` event)
 */
export function reportsTo<T extends object>(proto: T, report: (owner: T) => ReportError | undefined): void {
  Object.defineProperty(proto, REPORTER, {
    get(this: T) {
      return report(this);
    },
  });
}

/** The reporter `owner` declared with {@link reportsTo}, or {@link reportUncaught} when there is none. */
export function reporterFor(owner: object): ReportError {
  return (owner as { [REPORTER]?: ReportError })[REPORTER] ?? reportUncaught;
}

import type { Logger } from './hooks';

/**
 * Calling app code whose answer the server does not wait for: listeners, `onGap`, presence
 * watchers, the logger. Such code may be `async` (the docs' own bot is), and a rejected promise
 * nobody handles ends a Node process (`--unhandled-rejections=throw`, the default since Node 15).
 * So every such call goes through here: a sync throw and a rejection alike reach `onFailure`.
 */

/** Whether `value` is a promise or any other thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Run `call` (app code), not awaiting it. A sync throw, or a rejection of the promise it returns,
 * goes to `onFailure`; nothing escapes, now or later.
 * @param onFailure told the error; itself must not throw (a throw there is dropped)
 */
export function callApp(call: () => unknown, onFailure: (error: unknown) => void): void {
  const fail = (error: unknown): void => {
    try {
      onFailure(error);
    } catch {
      // The reporter failed too: there is nowhere left to report to, and the caller must go on.
    }
  };
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    fail(error);
    return;
  }
  if (!isThenable(result)) return;
  try {
    // What `then` returns is ours to drop: `fail` never rejects.
    void result.then(undefined, fail);
  } catch (error) {
    fail(error); // a hostile thenable whose `then` throws: the app's failure too
  }
}

/** `callApp` for code whose failure is its own business (a broker's subscriber): dropped. */
export function swallow(call: () => unknown): void {
  callApp(call, () => {});
}

/**
 * The app's logger, made safe to call from anywhere: a logger that ships lines somewhere (an
 * `async` one) and fails must not end the process nor break the path that was reporting.
 * Its own failure goes to the console, the one place left.
 */
export function guardLogger(logger: Logger): Logger {
  const report = (error: unknown): void => console.error('tidewire: the logger failed', error);
  return {
    warn: (message, details) => callApp(() => logger.warn(message, details), report),
    error: (message, details) => callApp(() => logger.error(message, details), report),
  };
}

/**
 * A predicate the server needs answered at once (`isChannel`, an `allowedOrigins` function). One that
 * answers a promise (an `async` function) would pass every name — a promise is truthy — and its
 * rejection would go unhandled: such an answer refuses instead (fail closed), and is logged, once
 * for the misuse and each time it rejects. A sync throw is left to the caller, as before.
 */
export function syncPredicate<A extends unknown[]>(what: string, predicate: (...args: A) => boolean, logger: Logger): (...args: A) => boolean {
  let told = false;
  return (...args) => {
    const answer: unknown = predicate(...args);
    if (!isThenable(answer)) return answer as boolean;
    callApp(() => answer, (e) => logger.error(`tidewire: ${what} rejected`, e));
    if (!told) {
      told = true;
      logger.error(`tidewire: ${what} returned a promise; it must answer synchronously (true or false), so everything it is asked is refused`);
    }
    return false;
  };
}

import type { Clock } from './clock';

/** How a call into an app hook (authenticate, authorize) ended. */
export type HookOutcome<T> = { kind: 'answered'; value: T } | { kind: 'threw'; error: unknown } | { kind: 'timed_out' };

/**
 * Call an app hook with a deadline. A session runs its requests one at a time, so a hook that
 * never settles would stall every later frame of that connection; past `timeoutMs` the request
 * is answered as failed and the session moves on (a late answer is ignored).
 * @param call the hook invocation; may throw or return a promise
 * @param timeoutMs ms to wait for it
 * @param clock where the deadline timer comes from
 */
export function callHook<T>(call: () => T | PromiseLike<T>, timeoutMs: number, clock: Clock): Promise<HookOutcome<T>> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: HookOutcome<T>): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      resolve(outcome);
    };
    const timer = clock.setTimeout(() => settle({ kind: 'timed_out' }), timeoutMs);
    try {
      Promise.resolve(call()).then(
        (value) => settle({ kind: 'answered', value }),
        (error: unknown) => settle({ kind: 'threw', error }),
      );
    } catch (error) {
      settle({ kind: 'threw', error });
    }
  });
}

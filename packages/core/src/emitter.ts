import EventEmitter from 'eventemitter3';
import type { TidewireError } from './errors';
import { callSafely } from './isolate';

/** A map from event name to listener signature, e.g. `{ message: (m: Message) => void }`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constraint only: each event's own signature is what callers see
export type EventMap<Events> = { [E in keyof Events]: (...args: any[]) => void };

/**
 * The typed event emitter behind `client.on` and `channel.on` — the base class of both, so the
 * `on/once/off/removeAllListeners` API exists once: eventemitter3 underneath, with two
 * differences a real-time SDK needs.
 *
 * - **Isolation.** Every listener is called in its own try/catch: a throw is reported as a
 *   `listener_error` (never unwinds the SDK) and the remaining listeners still run.
 * - **`on`/`once` return their own unsubscribe function**, so `useEffect(() => ch.on(…))`
 *   and `onScopeDispose(ch.on(…))` clean up in one expression. `off(event, listener)` and
 *   `removeAllListeners(event?)` work as in Node's EventEmitter.
 *
 * Each listener is registered as eventemitter3 `(trampoline, context = listener)`: one
 * trampoline per event calls its context inside `callSafely`, and `off` finds a listener by
 * its context without a side table.
 */
export abstract class Emitter<Events extends EventMap<Events>> {
  readonly #ee = new EventEmitter();
  readonly #trampolines = new Map<keyof Events, (this: Events[keyof Events], ...args: unknown[]) => void>();
  readonly #context: Readonly<Record<string, unknown>>;

  /** @param context added to every `listener_error`'s context (e.g. `{ channel }`). */
  constructor(context: Readonly<Record<string, unknown>> = {}) {
    this.#context = context;
  }

  /**
   * Add `listener` for `event`. Listeners run isolated: a throw is reported as `listener_error`
   * (see each owner's `error` event) and the other listeners still run.
   * @returns a function that removes this listener (same as `off(event, listener)`; idempotent).
   */
  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    this.#ee.on(event as string, this.#trampoline(event), listener);
    return () => this.off(event, listener);
  }

  /** Like `on`, for the next event only. @returns a function that removes the listener if it has not run yet. */
  once<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    this.#ee.once(event as string, this.#trampoline(event), listener);
    return () => this.off(event, listener);
  }

  /** Remove `listener` from `event` (every registration of it), or all of `event`'s listeners when omitted. @returns this. */
  off<E extends keyof Events>(event: E, listener?: Events[E]): this {
    if (listener === undefined) this.#ee.removeAllListeners(event as string);
    else this.#ee.off(event as string, this.#trampoline(event), listener);
    return this;
  }

  /** Remove every listener of `event`, or of every event when omitted. @returns this. */
  removeAllListeners(event?: keyof Events): this {
    // eventemitter3 treats an explicit `undefined` like no argument: every event is cleared.
    this.#ee.removeAllListeners(event as string | undefined);
    return this;
  }

  /** Call every listener of `event` in order, each isolated. Returns whether there was any. */
  protected emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): boolean {
    return this.#ee.emit(event as string, ...args);
  }

  /** Where a listener's `listener_error` goes (context names the event and the emitter's context). It must not throw. */
  protected abstract onListenerError(error: TidewireError, event: keyof Events): void;

  #trampoline<E extends keyof Events>(event: E): (this: Events[keyof Events], ...args: unknown[]) => void {
    let trampoline = this.#trampolines.get(event);
    if (!trampoline) {
      const report = (error: TidewireError) => this.onListenerError(error, event);
      const context = { event, ...this.#context };
      trampoline = function (this: Events[keyof Events], ...args: unknown[]) {
        callSafely(report, String(event), context, this, ...args);
      };
      this.#trampolines.set(event, trampoline);
    }
    return trampoline;
  }
}

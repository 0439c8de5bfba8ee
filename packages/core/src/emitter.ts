import EventEmitter from 'eventemitter3';
import type { TidewireError } from './errors';
import { callSafely } from './isolate';

/** A map from event name to listener signature, e.g. `{ message: (m: Message) => void }`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constraint only: each event's own signature is what callers see
export type EventMap<Events> = { [E in keyof Events]: (...args: any[]) => void };

/**
 * Where an exception thrown by a listener of `event` goes. Given the `listener_error`
 * already built (context names the event and whatever `context` the emitter was made with).
 */
export type ListenerErrorSink<Events> = (error: TidewireError, event: keyof Events) => void;

/**
 * The typed event emitter behind `client.on` and `channel.on`: eventemitter3 underneath,
 * with two differences a real-time SDK needs.
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
export class Emitter<Events extends EventMap<Events>> {
  readonly #ee = new EventEmitter();
  readonly #trampolines = new Map<keyof Events, (this: Events[keyof Events], ...args: unknown[]) => void>();
  readonly #onError: ListenerErrorSink<Events>;
  readonly #context: Readonly<Record<string, unknown>>;

  /**
   * @param onError receives each `listener_error`; it must not throw.
   * @param context added to every `listener_error`'s context (e.g. `{ channel }`).
   */
  constructor(onError: ListenerErrorSink<Events>, context: Readonly<Record<string, unknown>> = {}) {
    this.#onError = onError;
    this.#context = context;
  }

  /** Add `listener` for `event`; returns a function that removes it again (idempotent). */
  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    this.#ee.on(event as string, this.#trampoline(event), listener);
    return () => this.off(event, listener);
  }

  /** Like `on`, but the listener is removed before its first call. */
  once<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    this.#ee.once(event as string, this.#trampoline(event), listener);
    return () => this.off(event, listener);
  }

  /** Remove `listener` from `event` (every registration of it), or all of `event`'s listeners when omitted. */
  off<E extends keyof Events>(event: E, listener?: Events[E]): void {
    if (listener === undefined) this.#ee.removeAllListeners(event as string);
    else this.#ee.off(event as string, this.#trampoline(event), listener);
  }

  /** Remove every listener of `event`, or of every event when omitted. */
  removeAllListeners(event?: keyof Events): void {
    if (event === undefined) this.#ee.removeAllListeners();
    else this.#ee.removeAllListeners(event as string);
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    return this.#ee.listenerCount(event as string);
  }

  /** Call every listener of `event` in order, each isolated. Returns whether there was any. */
  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): boolean {
    return this.#ee.emit(event as string, ...args);
  }

  #trampoline<E extends keyof Events>(event: E): (this: Events[keyof Events], ...args: unknown[]) => void {
    let trampoline = this.#trampolines.get(event);
    if (!trampoline) {
      const onError = this.#onError;
      const report = (error: TidewireError) => onError(error, event);
      const context = { event, ...this.#context };
      trampoline = function (this: Events[keyof Events], ...args: unknown[]) {
        callSafely(report, String(event), context, this, ...args);
      };
      this.#trampolines.set(event, trampoline);
    }
    return trampoline;
  }
}

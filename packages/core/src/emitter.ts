import EventEmitter from 'eventemitter3';
import type { TidewireError } from './errors';
import { reportThrow } from './isolate';

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
 * trampoline shared by every emitter calls its context inside a try/catch (`emit` passes the
 * emitter and the event along), and `off` finds a listener by its context without a side table.
 * The eventemitter3 instance is made on the first listener: an emitter nobody listens to (a
 * client in a server process, most of an idle app's) holds nothing for it.
 */
export abstract class Emitter<Events extends EventMap<Events>> {
  #ee: EventEmitter | undefined;
  readonly #context: Readonly<Record<string, unknown>> | undefined;

  /** Calls the listener it was registered with (its `this`), isolated; the same function for every emitter and event. */
  static readonly #trampoline = function (this: (...args: unknown[]) => void, emitter: Emitter<EventMap<unknown>>, event: PropertyKey, ...args: unknown[]): void {
    try {
      this(...args);
    } catch (cause) {
      reportThrow((error) => emitter.onListenerError(error, event as never), String(event), cause, { event, ...emitter.errorContext() });
    }
  } as (...args: unknown[]) => void;

  /** @param context added to every `listener_error`'s context (e.g. `{ channel }`); see also `errorContext`. */
  constructor(context?: Readonly<Record<string, unknown>>) {
    this.#context = context;
  }

  /**
   * Add `listener` for `event`. Listeners run isolated: a throw is reported as `listener_error`
   * (see each owner's `error` event) and the other listeners still run.
   * @returns a function that removes this listener (same as `off(event, listener)`; idempotent).
   */
  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    (this.#ee ??= new EventEmitter()).on(event as string, Emitter.#trampoline, listener);
    return () => this.off(event, listener);
  }

  /** Like `on`, for the next event only. @returns a function that removes the listener if it has not run yet. */
  once<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    (this.#ee ??= new EventEmitter()).once(event as string, Emitter.#trampoline, listener);
    return () => this.off(event, listener);
  }

  /** Remove `listener` from `event` (every registration of it), or all of `event`'s listeners when omitted. @returns this. */
  off<E extends keyof Events>(event: E, listener?: Events[E]): this {
    if (listener === undefined) this.#ee?.removeAllListeners(event as string);
    else this.#ee?.off(event as string, Emitter.#trampoline, listener);
    return this;
  }

  /** Remove every listener of `event`, or of every event when omitted. @returns this. */
  removeAllListeners(event?: keyof Events): this {
    // eventemitter3 treats an explicit `undefined` like no argument: every event is cleared.
    this.#ee?.removeAllListeners(event as string | undefined);
    return this;
  }

  /** Call every listener of `event` in order, each isolated. Returns whether there was any. */
  protected emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): boolean {
    const ee = this.#ee;
    return ee !== undefined && ee.emit(event as string, this, event, ...args);
  }

  /** What every `listener_error` of this emitter adds to its context: the constructor's `context` (override to compute it only when needed). */
  protected errorContext(): Readonly<Record<string, unknown>> | undefined {
    return this.#context;
  }

  /** Where a listener's `listener_error` goes (context names the event and the emitter's context). It must not throw. */
  protected abstract onListenerError(error: TidewireError, event: keyof Events): void;
}

import type { ReportError } from './isolate';
import { callSafely, reportUncaught } from './isolate';

/**
 * Define `value` as `owner`'s own `key`, shadowing the prototype's getter that called this, and
 * return it: a method made callable detached on first read, with one identity from then on, and
 * nothing made for an instance whose method is never read that way.
 */
export function cacheOwn<V>(owner: object, key: string, value: V): V {
  Object.defineProperty(owner, key, { value, writable: true, configurable: true });
  return value;
}

/** The context of a throwing `subscribe` listener's report: nothing to add (one object for every store). */
const NO_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * The one state contract bindings rely on: `subscribe(listener) → unsubscribe`
 * and `getSnapshot()`, where the snapshot is immutable and keeps its identity
 * until something changes (what `useSyncExternalStore` and Vue's shallowRef need).
 *
 * Listeners are app code: each runs isolated, so one that throws cannot stop the others
 * or unwind the change that notified it; the throw goes to `report` as a `listener_error`.
 */
export class Store<S> {
  #snapshot: S;
  /** Made on the first listener (most stores of an idle client have none or one). */
  #listeners: Set<() => void> | undefined;
  readonly #report: ReportError;

  /**
   * @param initial the first snapshot.
   * @param report where a listener's exception goes (the client's `error` event); default: the host's uncaught-error handling.
   */
  constructor(initial: S, report: ReportError = reportUncaught) {
    this.#snapshot = initial;
    this.#report = report;
  }

  /**
   * The current snapshot, callable detached (`useSyncExternalStore(store.subscribe, store.getSnapshot)`):
   * bound on first read, the same function on every read after.
   */
  get getSnapshot(): () => S {
    return cacheOwn(this, 'getSnapshot', this.read_.bind(this));
  }

  /** Replaceable, as a plain property would be (tests wrap it). */
  set getSnapshot(fn: () => S) {
    cacheOwn(this, 'getSnapshot', fn);
  }

  /**
   * Call `listener` after every change; callable detached, bound on first read like `getSnapshot`.
   * @returns a function that removes the listener.
   */
  get subscribe(): (listener: () => void) => () => void {
    return cacheOwn(this, 'subscribe', this.observe_.bind(this));
  }

  set subscribe(fn: (listener: () => void) => () => void) {
    cacheOwn(this, 'subscribe', fn);
  }

  /** The current snapshot, for the SDK's own reads (no bound function is made for them). */
  read_(): S {
    return this.#snapshot;
  }

  /** `subscribe` for the SDK's own listeners (no bound function is made for them). @returns the remover. */
  observe_(listener: () => void): () => void {
    const listeners = (this.#listeners ??= new Set());
    listeners.add(listener);
    if (listeners.size === 1) this.onFirstListener();
    return () => {
      if (!listeners.delete(listener) || listeners.size > 0) return;
      if (this.#listeners === listeners) this.#listeners = undefined; // an empty set still holds its table
      this.onLastListenerGone();
    };
  }

  /** Start lazily: called when the first listener arrives. */
  protected onFirstListener(): void {}
  /** Stop lazily: called when the last listener leaves. */
  protected onLastListenerGone(): void {}

  protected setSnapshot(next: S): void {
    if (Object.is(next, this.#snapshot)) return;
    this.#snapshot = next;
    const listeners = this.#listeners;
    if (listeners?.size) for (const listener of [...listeners]) callSafely(this.#report, 'subscribe', NO_CONTEXT, listener);
  }

  protected get listenerCount(): number {
    return this.#listeners?.size ?? 0;
  }
}

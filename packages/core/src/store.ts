import type { ReportError } from './isolate';
import { callSafely, reportUncaught } from './isolate';

/**
 * Make `proto[key]` a method callable detached (`useSyncExternalStore(x.subscribe, x.getSnapshot)`)
 * without a closure per instance made up front: the first read binds `method` to the instance and
 * keeps it as the instance's own property (one identity from then on); an assignment replaces it,
 * as with a plain property. Declare the property's type with `declare` in the class.
 */
export function bindOnRead<T extends object>(proto: T, key: string, method: (this: T, ...args: never[]) => unknown): void {
  const own = (owner: object, value: unknown): void => void Object.defineProperty(owner, key, { value, writable: true, configurable: true });
  Object.defineProperty(proto, key, {
    get(this: T) {
      const bound = method.bind(this);
      own(this, bound);
      return bound;
    },
    set(this: T, value: unknown) {
      own(this, value);
    },
    configurable: true,
  });
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
  declare getSnapshot: () => S;
  /**
   * Call `listener` after every change; callable detached, bound on first read like `getSnapshot`.
   * @returns a function that removes the listener.
   */
  declare subscribe: (listener: () => void) => () => void;

  static {
    bindOnRead(this.prototype, 'getSnapshot', function (this: Store<unknown>) {
      return this.read_();
    });
    bindOnRead(this.prototype, 'subscribe', function (this: Store<unknown>, listener: () => void) {
      return this.observe_(listener);
    });
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

  /** `settle`: run once the snapshot is `next`, before the listeners (who are then skipped if it changed again meanwhile). */
  protected setSnapshot(next: S, settle?: () => void): void {
    if (Object.is(next, this.#snapshot)) return;
    this.#snapshot = next;
    settle?.();
    if (this.#snapshot !== next) return;
    const listeners = this.#listeners;
    if (listeners?.size) for (const listener of [...listeners]) callSafely(this.#report, 'subscribe', NO_CONTEXT, listener);
  }

  protected get listenerCount(): number {
    return this.#listeners?.size ?? 0;
  }
}

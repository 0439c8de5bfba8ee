/**
 * The one state contract bindings rely on: `subscribe(listener) → unsubscribe`
 * and `getSnapshot()`, where the snapshot is immutable and keeps its identity
 * until something changes (what `useSyncExternalStore` and Vue's shallowRef need).
 */
export class Store<S> {
  #snapshot: S;
  readonly #listeners = new Set<() => void>();

  constructor(initial: S) {
    this.#snapshot = initial;
  }

  getSnapshot = (): S => this.#snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.onFirstListener();
    return () => {
      if (this.#listeners.delete(listener) && this.#listeners.size === 0) this.onLastListenerGone();
    };
  };

  /** Start lazily: called when the first listener arrives. */
  protected onFirstListener(): void {}
  /** Stop lazily: called when the last listener leaves. */
  protected onLastListenerGone(): void {}

  protected setSnapshot(next: S): void {
    if (Object.is(next, this.#snapshot)) return;
    this.#snapshot = next;
    for (const listener of [...this.#listeners]) listener();
  }

  protected get listenerCount(): number {
    return this.#listeners.size;
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- listener parameter lists are checked per event below
type Listeners<Events> = { [E in keyof Events]: (...args: any[]) => void };

/**
 * A typed event emitter in a dozen lines. Measured against eventemitter3 (the
 * design's first choice): it saves ~1 KB min+gzip of the client budget, and `on`
 * returns its own `off`, which is all the SDK's API needs.
 */
export class Emitter<Events extends Listeners<Events>> {
  #listeners: { [E in keyof Events]?: Set<Events[E]> } = {};

  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    (this.#listeners[event] ??= new Set()).add(listener);
    return () => {
      this.#listeners[event]?.delete(listener);
    };
  }

  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    const set = this.#listeners[event];
    if (set) for (const listener of set) listener(...args);
  }

  clear(): void {
    this.#listeners = {};
  }
}

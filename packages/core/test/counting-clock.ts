import type { Clock } from '../src/clock';

/** The system clock, counting the platform timers that are armed right now. */
export function countingClock(): Clock & { readonly armed: number } {
  const live = new Set<unknown>();
  return {
    get armed() {
      return live.size;
    },
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const handle = globalThis.setTimeout(() => {
        live.delete(handle);
        fn();
      }, ms);
      live.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      live.delete(handle);
      globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>);
    },
  };
}

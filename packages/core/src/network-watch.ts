interface EventTargetLike {
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
}

/**
 * Calls `onWake` when the environment says the network or the page is back
 * (`online`, `pageshow`, `visibilitychange` to visible). A no-op where those
 * events do not exist (Node). Returns the function that stops watching.
 */
export function watchNetwork(onWake: () => void): () => void {
  const scope = globalThis as unknown as Partial<EventTargetLike> & {
    document?: EventTargetLike & { visibilityState?: string };
  };
  if (typeof scope.addEventListener !== 'function' || typeof scope.removeEventListener !== 'function') {
    return () => {};
  }
  const target = scope as EventTargetLike;
  const doc = scope.document;
  const onVisibility = () => {
    if (doc?.visibilityState === 'visible') onWake();
  };
  target.addEventListener('online', onWake);
  target.addEventListener('pageshow', onWake);
  doc?.addEventListener('visibilitychange', onVisibility);
  return () => {
    target.removeEventListener('online', onWake);
    target.removeEventListener('pageshow', onWake);
    doc?.removeEventListener('visibilitychange', onVisibility);
  };
}

interface EventTargetLike {
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
}

/**
 * Calls `onWake` when the environment says something about the line changed: the network
 * came back or went away (`online`, `offline`), or the page is back (`pageshow`,
 * `visibilitychange` to visible). The connection then checks its line at once instead of
 * waiting for the heartbeat. A no-op where those events do not exist (Node).
 */
export function watchNetwork(onWake: (event: string) => void): () => void {
  const scope = globalThis as unknown as Partial<EventTargetLike> & {
    document?: EventTargetLike & { visibilityState?: string };
  };
  if (typeof scope.addEventListener !== 'function' || typeof scope.removeEventListener !== 'function') {
    return () => {};
  }
  const target = scope as EventTargetLike;
  const doc = scope.document;
  const onVisibility = () => {
    if (doc?.visibilityState === 'visible') onWake('visible');
  };
  const listeners = ['online', 'offline', 'pageshow'].map((type) => [type, () => onWake(type)] as const);
  for (const [type, fn] of listeners) target.addEventListener(type, fn);
  doc?.addEventListener('visibilitychange', onVisibility);
  return () => {
    for (const [type, fn] of listeners) target.removeEventListener(type, fn);
    doc?.removeEventListener('visibilitychange', onVisibility);
  };
}

interface EventTargetLike {
  addEventListener(type: string, fn: (event: { type: string }) => void): void;
  removeEventListener(type: string, fn: (event: { type: string }) => void): void;
}

// `visibilitychange` fires at the document and bubbles to the window, so the window hears all four.
const WAKE_EVENTS = ['online', 'offline', 'pageshow', 'visibilitychange'];

/** What there is to undo where nothing was watched (shared: a Node client holds no closure for it). */
const watchNothing = (): void => {};

/**
 * Calls `onWake` when the environment says something about the line changed: the network
 * came back or went away (`online`, `offline`), or the page is back (`pageshow`,
 * `visibilitychange` to visible). The connection then checks its line at once instead of
 * waiting for the heartbeat. A no-op where those events do not exist (Node).
 */
export function watchNetwork(onWake: (event: string) => void): () => void {
  const scope = globalThis as unknown as Partial<EventTargetLike> & { document?: { visibilityState?: string } };
  if (typeof scope.addEventListener !== 'function') return watchNothing;
  const target = scope as EventTargetLike;
  const onEvent = ({ type }: { type: string }) => {
    if (type !== 'visibilitychange' || scope.document?.visibilityState === 'visible') onWake(type);
  };
  for (const type of WAKE_EVENTS) target.addEventListener(type, onEvent);
  return () => {
    for (const type of WAKE_EVENTS) target.removeEventListener(type, onEvent);
  };
}

import type { IncomingMessage } from 'node:http';
import type { AllowedOrigins } from './hooks';

/**
 * Cross-site WebSocket hijacking defence: browsers always send Origin and
 * WebSockets ignore CORS, so a foreign page could otherwise ride the user's
 * cookies. Requests without Origin come from non-browser clients and pass.
 */
export function isOriginAllowed(request: IncomingMessage, allowed: AllowedOrigins | undefined): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (typeof allowed === 'function') return safely(() => allowed(origin));
  if (allowed?.some((o) => o === '*' || normalize(o) === normalize(origin))) return true;
  return isSameOrigin(origin, request.headers.host);
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed iframes, file://) or garbage: not same-origin
  }
}

const normalize = (o: string): string => o.trim().replace(/\/+$/, '').toLowerCase();

function safely(check: () => boolean): boolean {
  try {
    return check() === true;
  } catch {
    return false; // a throwing policy refuses rather than crashing the upgrade
  }
}

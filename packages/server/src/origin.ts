import type { IncomingMessage } from 'node:http';
import type { AllowedOrigins, Logger } from './hooks';

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
  return isSameOrigin(origin, request.headers.host, (request.socket as { encrypted?: boolean } | undefined)?.encrypted === true);
}

/**
 * Same origin (RFC 6454 §5: scheme, host and port): the page's host must be the request's `Host`, and
 * its scheme a web page's — `https:`, or `http:` unless the request itself came over TLS (an `http://`
 * page on the same host, e.g. one a network attacker injected, must not reach an `https` server). When
 * TLS ends at a proxy the server cannot see the page's scheme, and the host decides alone.
 */
function isSameOrigin(origin: string, host: string | undefined, overTls: boolean): boolean {
  if (host === undefined) return false;
  try {
    const page = new URL(origin);
    if (page.protocol !== 'https:' && (page.protocol !== 'http:' || overTls)) return false;
    return page.host.toLowerCase() === host.toLowerCase();
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

/** How many distinct refused origins are remembered (and so logged once each); beyond it, no more logs. */
const MAX_REPORTED_ORIGINS = 100;

/**
 * Logs a refused Origin once per origin, with what to configure — the usual cause is a reverse
 * proxy that rewrites `Host` (nginx's default `proxy_pass` sends the upstream's name), so the
 * page's own origin no longer matches and every browser connection is refused. Without this
 * the server is silent and the client just reconnects. The memory is bounded so a client
 * sending random origins cannot grow it or flood the log.
 *
 * @param logger - where the warning goes (the server's `logger`).
 * @returns `report(request)`: call it for each refused request.
 */
export function originRefusalReporter(logger: Logger): (request: IncomingMessage) => void {
  const reported = new Set<string>();
  return (request) => {
    const origin = request.headers.origin ?? '';
    if (reported.has(origin) || reported.size >= MAX_REPORTED_ORIGINS) return;
    reported.add(origin);
    const host = request.headers.host ?? '(none)';
    const forwarded = request.headers['x-forwarded-host'];
    // `error`, not `warn`: the default logger keeps `warn` quiet (transport noise), and this is a
    // deployment to fix — often the only sign of it for a WebSocket client, which cannot read the 403.
    logger.error(
      `[tidewire] refused a browser connection from origin ${origin} (Host: ${host}${forwarded ? `, X-Forwarded-Host: ${String(forwarded)}` : ''}); ` +
        'browsers are only admitted from the same host or an allowed origin. If this is your own site behind a proxy, ' +
        'forward the original Host (nginx: proxy_set_header Host $host;) or allow it: ' +
        `createServer({ allowedOrigins: ['${origin}'] }). Logged once per origin; see docs/deployment.md.`,
      { origin, host, forwardedHost: forwarded },
    );
  };
}

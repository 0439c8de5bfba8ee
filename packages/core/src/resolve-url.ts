import { TidewireError } from './errors';

/**
 * Turns the `url` option into an absolute URL once, at `createClient`, so a bad one fails
 * there with a clear error instead of as endless silent reconnects later.
 *
 * A relative URL (`/tidewire`, `tidewire`, `//host/tidewire`) is resolved against the page
 * (`globalThis.location.href`) — the same rule as `fetch` and `new WebSocket` in a browser.
 * The scheme is kept as given (http(s) or ws(s)); each transport picks its own scheme later.
 *
 * @param url - absolute (`wss://example.com/tidewire`, `https://…`) or relative to the page.
 * @param base - what a relative `url` is resolved against. Default: the page's `location.href`,
 *   or nothing where there is no page (Node, Deno, Bun, a server render).
 * @returns the absolute URL as a string.
 * @throws {TidewireError} code `invalid_options` when `url` is relative and there is no page to
 *   resolve it against (pass an absolute URL there), or when it is not a URL at all, or not ws:, wss:, http: or https:.
 * @example
 * ```ts
 * resolveUrl('/tidewire', 'https://app.example/chat'); // 'https://app.example/tidewire'
 * ```
 */
export function resolveUrl(url: string, base: string | undefined = pageHref()): string {
  let href: string;
  try {
    // An absolute url ignores the base; a relative one needs it (about:blank cannot anchor a path).
    href = new URL(url, base).href;
  } catch {
    throw new TidewireError(
      'invalid_options',
      `createClient: cannot resolve url "${url}" ${base ? `against ${base}` : 'without a page'}: pass an absolute URL (wss://…)`,
      { context: { url, base } },
    );
  }
  // Every transport speaks ws(s) or http(s); another scheme (ftp:, file:) could only fail forever.
  if (!/^(wss?|https?):/.test(href)) throw new TidewireError('invalid_options', `createClient: url "${url}" is not ws:, wss:, http: or https:`, { context: { url } });
  return href === url ? url : href; // the app's own string when unchanged: one copy for all its clients
}

/**
 * Where a relative `url` points in a client built during a server render (React's
 * `renderToString`, Vue's SSR, a Next.js Server Component tree): a reserved host that can
 * never resolve (RFC 2606 `.invalid`). A server render never connects, so the address is never
 * used; were it ever dialled, it fails visibly instead of reaching some real server.
 */
export const SERVER_RENDER_BASE = 'http://server-render.invalid/';

/**
 * The url rule of the React and Vue bindings: in a page, exactly `resolveUrl` (relative to
 * `location.href`); where there is no page — a server render — relative to
 * `SERVER_RENDER_BASE`, so `<TidewireProvider options={{ url: '/tidewire' }}>` renders on the
 * server the same markup it hydrates in the browser. Use `createClient` directly outside a
 * render: there a relative url without a page throws `invalid_options` at once.
 *
 * @param url - absolute, or relative to the page.
 * @returns the absolute URL as a string.
 * @throws {TidewireError} code `invalid_options` when `url` is not a URL even relative to a base.
 */
export function resolveRenderUrl(url: string): string {
  return resolveUrl(url, pageHref() ?? SERVER_RENDER_BASE);
}

/** The page's address in a browser or worker; undefined in Node and other page-less runtimes. */
function pageHref(): string | undefined {
  const location = (globalThis as { location?: { href?: unknown } }).location;
  return typeof location?.href === 'string' ? location.href : undefined;
}

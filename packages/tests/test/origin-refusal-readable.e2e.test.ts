import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type TidewireServer } from '@tidewire/server';

/**
 * "Origin checks that say why they refuse": docs/deployment.md promises that the SSE and
 * long-polling transports read the 403 body and fail at once with `forbidden_origin`. A page on
 * another origin (one forgotten in allowedOrigins — the usual case besides a Host-rewriting proxy)
 * makes CORS requests: a browser hands the refusal to script only if the answer carries
 * `Access-Control-Allow-Origin`, and sends a request with `Authorization` only after its preflight
 * (OPTIONS) is answered with it. The server's refusals carry neither, so in a browser the fetch
 * rejects with a bare TypeError: the client sees `transport_error` and retries forever, never
 * learning why. (Safe to expose: the refusal holds no session, and the route refuses the real request.)
 */
let server: TidewireServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const other = 'https://admin.example';

describe('a cross-origin page can read why it was refused', () => {
  it('the 403 forbidden_origin answer to the SSE stream is readable by the page (CORS)', async () => {
    server = createServer({ allowedOrigins: ['https://app.example'], logger: { warn: () => {}, error: () => {} } });
    const { port } = await server.listen(0);
    const res = await fetch(`http://127.0.0.1:${port}/tidewire/sse`, { headers: { origin: other, accept: 'text/event-stream' } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden_origin');
    expect(res.headers.get('access-control-allow-origin')).toBe(other);
  });

  it('the long-poll open refusal is readable too', async () => {
    server = createServer({ allowedOrigins: ['https://app.example'], logger: { warn: () => {}, error: () => {} } });
    const { port } = await server.listen(0);
    const res = await fetch(`http://127.0.0.1:${port}/tidewire/poll?batch=lines`, { method: 'POST', headers: { origin: other } });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBe(other);
  });

  it('the preflight of a request with Authorization lets the browser send it (and so read its refusal)', async () => {
    server = createServer({ allowedOrigins: ['https://app.example'], logger: { warn: () => {}, error: () => {} } });
    const { port } = await server.listen(0);
    const res = await fetch(`http://127.0.0.1:${port}/tidewire/sse`, {
      method: 'OPTIONS',
      headers: { origin: other, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    // A browser fails a preflight unless it is 2xx with Access-Control-Allow-Origin.
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe(other);
  });
});

import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../src/index';

/**
 * The same-host origin check compares the scheme too (RFC 6454 §5: an origin is scheme, host and
 * port): an `http://` page on the server's own host must not reach a server serving TLS, and an
 * origin that is not a web page's (`chrome-extension://`, `file://`) is never "the same host".
 */

// A self-signed certificate for CN=localhost, made for this test only (openssl req -x509, EC P-256, 100 years).
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgZDbfp7v9T5SdOqAp
Q9nONZgiRjJRneNKBvC/TNhSw9ahRANCAASvkBxCzphmtuC7HqEsJ9k+fg3c0iA0
piQVhobVUuKFTSbsXYcMWJkuUFXUH3eYy9zrPrvwJrQHCebLALc9KNlI
-----END PRIVATE KEY-----`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBfjCCASWgAwIBAgIUYuI5eZyyCX4+RHUi12lNqY98d1UwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEzMDExMjkzMVoYDzIxMjYxMTA2
MTEyOTMxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASvkBxCzphmtuC7HqEsJ9k+fg3c0iA0piQVhobVUuKFTSbsXYcMWJku
UFXUH3eYy9zrPrvwJrQHCebLALc9KNlIo1MwUTAdBgNVHQ4EFgQUtBhgRYg3jkYE
ovds1r8Epw8VZTYwHwYDVR0jBBgwFoAUtBhgRYg3jkYEovds1r8Epw8VZTYwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBQX0hM9Asb7kE2H0tnkjBG
xw9XuC+saLuhMM2ykpzN0gIgC6cVFy26bp1LuyrJzvMA0iSzE8ttPIZOnN8g7n0p
LC4=
-----END CERTIFICATE-----`;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A Tidewire server attached to a TLS server (`tls`) or a plain one; @returns its port. */
async function serve(tls: boolean): Promise<number> {
  const server = createServer({ logger: { warn: () => {}, error: () => {} } });
  if (!tls) {
    const { port } = await server.listen(0);
    cleanups.push(() => server.close());
    return port;
  }
  const https = createHttpsServer({ key: KEY, cert: CERT });
  server.attach(https);
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await server.close();
    await new Promise((resolve) => https.close(resolve));
  });
  return (https.address() as AddressInfo).port;
}

type Route = 'websocket' | 'sse' | 'longpoll';

/** One request on `route` with `origin` and the server's own Host; @returns the status of its answer. */
function statusOf(tls: boolean, port: number, route: Route, origin: string): Promise<number> {
  const request = tls ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const upgrade = route === 'websocket';
    const req = request({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      method: route === 'longpoll' ? 'POST' : 'GET',
      path: upgrade ? '/tidewire' : route === 'sse' ? '/tidewire/sse' : '/tidewire/poll',
      headers: {
        origin,
        host: `localhost:${port}`,
        ...(upgrade && { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }),
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

const routes: Route[] = ['websocket', 'sse', 'longpoll'];

describe.each(routes)('the same-host origin check on %s', (route) => {
  it('refuses an http:// page on the host of a server that serves TLS, and admits its https:// page', async () => {
    const port = await serve(true);
    expect(await statusOf(true, port, route, `http://localhost:${port}`)).toBe(403);
    expect(await statusOf(true, port, route, `https://localhost:${port}`)).not.toBe(403);
  });

  it('admits either scheme on a plain-HTTP server (TLS may end at a proxy), and never a non-web scheme', async () => {
    const port = await serve(false);
    expect(await statusOf(false, port, route, `http://localhost:${port}`)).not.toBe(403);
    expect(await statusOf(false, port, route, `https://localhost:${port}`)).not.toBe(403);
    expect(await statusOf(false, port, route, `chrome-extension://localhost:${port}`)).toBe(403);
    expect(await statusOf(false, port, route, `file://localhost:${port}`)).toBe(403);
  });
});

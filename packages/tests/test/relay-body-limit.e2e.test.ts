import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type SessionRelay, type TidewireServer } from '@tidewire/server';

/**
 * A request for another node's session is read here and relayed (docs/scaling.md). Its body is
 * bounded like a local one — "a body past the limit is refused 413 here, as the owner would"
 * (src/sessionRelay.ts) — and the owner's own reader (readBody) answers 413 as soon as the limit is
 * passed and cuts a peer that keeps sending. The relay's reader must not be the weaker door: it is
 * reached with no secret at all (any sid naming another node).
 */
let server: TidewireServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A relay of node A; node B is never asked (the body is refused before any forward). */
function fakeRelay(forwarded: unknown[]): SessionRelay {
  return {
    nodeId: 'A',
    serve: () => () => {},
    forward: async (_node, request) => {
      forwarded.push(request);
      return undefined;
    },
  };
}

/** POST `path` declaring `declared` bytes, send `send` bytes and keep the request open; resolves with the status if an answer comes. */
function postWithoutEnding(port: number, path: string, declared: number | undefined, send: number, waitMs: number): Promise<{ status: number | undefined; socketClosed: boolean }> {
  return new Promise((resolve) => {
    let status: number | undefined;
    let socketClosed = false;
    const req = http.request({ port, host: '127.0.0.1', method: 'POST', path, headers: { 'content-type': 'text/plain', ...(declared !== undefined ? { 'content-length': String(declared) } : { 'transfer-encoding': 'chunked' }) } });
    req.on('response', (res) => {
      status = res.statusCode;
      res.resume();
    });
    req.on('error', () => {});
    req.on('socket', (s) => s.on('close', () => (socketClosed = true)));
    req.write(Buffer.alloc(send, 0x61));
    // The client keeps the request open (never ends the body): an answer must not depend on it.
    setTimeout(() => {
      resolve({ status, socketClosed });
      req.destroy();
    }, waitMs);
  });
}

describe('the relay path bounds a request body as the owner does', () => {
  it('a body declared larger than the limit is answered 413 at once, without reading it to the end', async () => {
    const forwarded: unknown[] = [];
    server = createServer({ relay: fakeRelay(forwarded), logger: { warn: () => {}, error: () => {} } });
    const { port } = await server.listen(0);
    // Limit: 4 × 64 KiB + 64 KiB = 320 KiB. Declares 100 MB, sends 1 MB, never ends.
    const remote = await postWithoutEnding(port, '/tidewire/poll?sid=B.someone', 100_000_000, 1_000_000, 2500);
    // The same request to a local session id is answered 413 (readBody); the relay never answers.
    expect(remote.status).toBe(413);
    expect(forwarded).toEqual([]);
  });

  it('a chunked body past the limit is answered 413 and the peer that keeps sending is cut', async () => {
    server = createServer({ relay: fakeRelay([]), logger: { warn: () => {}, error: () => {} } });
    const { port } = await server.listen(0);
    const remote = await postWithoutEnding(port, '/tidewire/poll?sid=B.someone', undefined, 1_000_000, 2500);
    expect(remote.status).toBe(413);
  });
});

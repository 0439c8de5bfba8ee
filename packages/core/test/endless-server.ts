import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

/** The `connected` frame a broken server sends before it goes wrong (valid, so the client is `connected`). */
export const CONNECTED = JSON.stringify({ type: 'connected', v: 1, session: 's', heartbeat: 60_000, maxPayload: 65_536 });

/**
 * Write `piece` to `res` for as long as the client reads: a body (an SSE event, a long-poll line…)
 * that never ends. Honours backpressure, so what is written is what the client pulled, plus what
 * the kernel's socket buffers hold.
 * @returns a promise of the bytes written, settled once the client went away
 */
export async function writeForever(res: ServerResponse, piece: string): Promise<number> {
  const chunk = Buffer.from(piece);
  let written = 0;
  let gone = false;
  res.once('close', () => (gone = true));
  while (!gone) {
    written += chunk.length;
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  }
  return written;
}

/** A raw HTTP server on loopback playing a broken Tidewire server; `handle` answers each request. */
export async function rawServer(handle: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  let n = 0;
  const server = createServer((req, res) => {
    if (req.method === 'POST') return void req.resume().on('end', () => (req.url!.includes('sid=') ? res.writeHead(204).end() : handle(req, res, ++n)));
    if (req.method === 'DELETE') return void res.writeHead(204).end();
    handle(req, res, ++n);
  });
  const wss = new WebSocketServer({ server });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    wss,
    url: `http://127.0.0.1:${port}/tw`,
    /** Requests handled (POSTs with a `sid` are not counted): a second opening is a reconnect. */
    get requests() {
      return n;
    },
    async [Symbol.asyncDispose]() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      server.close();
    },
  };
}

/**
 * A fetch that counts the bytes the client pulled from each response body: all it can have
 * buffered, whatever the process's memory does meanwhile.
 */
export function countingFetch() {
  const counts = { pulled: 0, largestBody: 0 };
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const res = await globalThis.fetch(input, init);
    if (!res.body) return res;
    let body = 0;
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          counts.pulled += chunk.length;
          counts.largestBody = Math.max(counts.largestBody, (body += chunk.length));
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: res.status, headers: res.headers });
  };
  return { counts, fetch };
}

import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { listen } from '../shared/listen';

/** Counters of what the adapter served: requests, and bytes of response bodies (per path prefix). */
export interface Traffic {
  requests: number;
  bytes: number;
}

export interface NodeAdapter {
  readonly url: string;
  readonly http: HttpServer;
  /** Traffic by the first two path segments (`/tidewire/sse`, `/api/poll`, …). */
  readonly traffic: Map<string, Traffic>;
  close(): Promise<void>;
}

/**
 * Serve a Fetch-API handler (`Request → Response`) from Node's `http`: the part Next.js, Hono or
 * Bun would be. Streams request and response bodies, aborts the Request when the client goes.
 */
export async function serveFetch(handler: (request: Request) => Promise<Response>, port = 0): Promise<NodeAdapter> {
  const traffic = new Map<string, Traffic>();
  const count = (path: string) => {
    const key = path.split('/').slice(0, 3).join('/');
    let entry = traffic.get(key);
    if (!entry) traffic.set(key, (entry = { requests: 0, bytes: 0 }));
    return entry;
  };
  const http = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const counter = count(new URL(req.url ?? '/', 'http://x').pathname);
    counter.requests++;
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers,
      signal: gone.signal,
      ...(hasBody && { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' }),
    } as RequestInit);
    void (async () => {
      const response = await handler(request);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.flushHeaders();
      if (!response.body) return void res.end();
      const reader = response.body.getReader();
      res.once('close', () => void reader.cancel().catch(() => {}));
      try {
        for (let chunk; !(chunk = await reader.read()).done; ) {
          counter.bytes += chunk.value.byteLength;
          res.write(chunk.value);
        }
        res.end();
      } catch {
        res.destroy();
      }
    })().catch(() => res.destroy());
  });
  const { url, stop } = await listen(http, port);
  return { url, http, traffic, close: stop };
}

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chunked, type Subject } from './types';

/**
 * Baseline: a plain node:http `text/event-stream` (one `data:` event per message), read
 * with fetch and a minimal parser; publishes are POSTs answered 200 (the answer is the ack).
 */
export const rawSse: Subject = {
  async startServer() {
    const channels = new Map<string, Set<ServerResponse>>();
    const http = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && u.pathname === '/events') {
        const ch = u.searchParams.get('ch') ?? '';
        let set = channels.get(ch);
        if (!set) channels.set(ch, (set = new Set()));
        set.add(res);
        res.on('close', () => set.delete(res));
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.flushHeaders();
        return;
      }
      if (req.method === 'POST' && u.pathname === '/publish') {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => {
          const { id } = JSON.parse(body) as { id: number };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ack: id }));
        });
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    return {
      url: `http://127.0.0.1:${port}`,
      push: (n, make, chunk) => {
        const subs = [...(channels.get('push') ?? [])];
        return chunked(n, (i) => {
          const text = `data: ${JSON.stringify(make(i))}\n\n`;
          for (const res of subs) res.write(text);
        }, chunk);
      },
      broadcast(data) {
        const text = `data: ${JSON.stringify(data)}\n\n`;
        for (const res of channels.get('fan') ?? []) res.write(text);
      },
      async close() {
        for (const set of channels.values()) for (const res of set) res.destroy();
        http.closeAllConnections();
        await new Promise((r) => http.close(r));
      },
    };
  },
  async connect(url, channel, onData) {
    const abort = new AbortController();
    const res = await fetch(`${url}/events?ch=${channel}`, { signal: abort.signal, headers: { accept: 'text/event-stream' } });
    if (!res.ok || !res.body) throw new Error(`SSE: HTTP ${res.status}`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      let buf = '';
      try {
        for (let chunk; !(chunk = await reader.read()).done; ) {
          buf += decoder.decode(chunk.value, { stream: true });
          let start = 0;
          for (let end; (end = buf.indexOf('\n\n', start)) >= 0; start = end + 2) {
            if (buf.startsWith('data: ', start)) onData(JSON.parse(buf.slice(start + 6, end)));
          }
          buf = buf.slice(start);
        }
      } catch {
        /* aborted */
      }
    })();
    let seq = 0;
    return {
      async publish(data) {
        const r = await fetch(`${url}/publish`, { method: 'POST', body: JSON.stringify({ id: ++seq, data }), headers: { 'content-type': 'application/json' } });
        return r.json();
      },
      close: () => abort.abort(),
    };
  },
};

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { chunked, type Subject } from './types';

/** Baseline: a raw `ws` server and client, JSON text frames, no protocol beyond `{ id }` → `{ ack }`. */
export const rawWs: Subject = {
  async startServer() {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    const channels = new Map<string, Set<WebSocket>>();
    wss.on('connection', (ws, req) => {
      const ch = new URL(req.url ?? '/', 'http://x').searchParams.get('ch') ?? '';
      let set = channels.get(ch);
      if (!set) channels.set(ch, (set = new Set()));
      set.add(ws);
      ws.on('close', () => set.delete(ws));
      ws.on('message', (raw) => {
        const m = JSON.parse(raw.toString()) as { id: number };
        ws.send(JSON.stringify({ ack: m.id }));
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    return {
      url: `ws://127.0.0.1:${port}/`,
      push: (n, make, chunk) => {
        const subs = [...(channels.get('push') ?? [])];
        return chunked(n, (i) => {
          const text = JSON.stringify(make(i));
          for (const ws of subs) ws.send(text);
        }, chunk);
      },
      broadcast(data) {
        const text = JSON.stringify(data);
        for (const ws of channels.get('fan') ?? []) ws.send(text);
      },
      async close() {
        for (const ws of wss.clients) ws.terminate();
        await new Promise((r) => wss.close(r));
        await new Promise((r) => http.close(r));
      },
    };
  },
  connect(url, channel, onData) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url}?ch=${channel}`);
      let seq = 0;
      const acks = new Map<number, () => void>();
      ws.on('message', (raw) => {
        const m = JSON.parse(raw.toString());
        if (m.ack !== undefined) {
          acks.get(m.ack)?.();
          acks.delete(m.ack);
        } else onData(m);
      });
      ws.once('error', reject);
      ws.once('open', () =>
        resolve({
          publish: (data) =>
            new Promise<void>((res) => {
              const id = ++seq;
              acks.set(id, res);
              ws.send(JSON.stringify({ id, data }));
            }),
          close: () => ws.terminate(),
        }),
      );
    });
  },
};

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { createClient, websocket, type TransportFactory, type WebSocketConstructor } from '@tidewire/core';
import { createServer } from '@tidewire/server';
import { chunked, type Subject } from './types';

export type TidewireTransport = 'websocket' | 'sse' | 'longpoll';

/**
 * Limits raised for the bench (documented in docs/benchmarks.md): the default frame rate
 * (100/s, burst 200) would refuse the RTT loop, and the default 4 MiB per-connection
 * buffer would close the push client as a slow consumer while 200,000 messages are queued.
 */
export const BENCH_SERVER_OPTIONS = {
  limits: { rate: { perSecond: 1e9, burst: 1e9 }, maxBufferedBytes: 2 ** 30 },
} as const;

/** Whether the client side of a transport exists in this checkout (SSE and long polling are being written). */
export function clientTransportExists(t: TidewireTransport): boolean {
  if (t === 'websocket') return true;
  return existsSync(fileURLToPath(new URL(`../../packages/core/src/transports/${t}.ts`, import.meta.url)));
}

async function factory(t: TidewireTransport): Promise<TransportFactory> {
  if (t === 'websocket') return websocket();
  // Resolved at run time so the bench runs (without these subjects) before the files exist.
  const spec = `@tidewire/core/${t}`;
  const mod = (await import(spec)) as Record<string, () => TransportFactory>;
  return mod[t]!();
}

export function tidewire(transport: TidewireTransport): Subject {
  return {
    async startServer() {
      // Experiments only (e.g. '{"dedupe":{"size":0}}' to measure the dedupe window's cost); never in a reported run.
      const extra = process.env.TIDEWIRE_BENCH_SERVER_OPTIONS ? (JSON.parse(process.env.TIDEWIRE_BENCH_SERVER_OPTIONS) as object) : {};
      const server = createServer({ ...BENCH_SERVER_OPTIONS, ...extra });
      const { url } = await server.listen(0);
      return {
        url,
        push: (n, make, chunk) => chunked(n, (i) => void server.publish('push', make(i)), chunk),
        broadcast: (data) => server.publish('fan', data),
        close: () => server.close(),
      };
    },
    async connect(url, channel, onData) {
      const client = createClient({
        url,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        transports: [await factory(transport)],
        publishTimeout: 60_000,
        connectTimeout: 10_000,
      });
      const ch = client.channel(channel);
      ch.on('message', (m) => onData(m.data));
      await new Promise<void>((resolve, reject) => {
        const check = (): void => {
          const s = ch.getSnapshot();
          const c = client.getSnapshot();
          if (s.state === 'subscribed') {
            off();
            resolve();
          } else if (s.state === 'failed' || c.state === 'failed' || c.state === 'reconnecting') {
            off();
            client.close();
            reject(new Error(`tidewire ${transport}: ${s.state === 'failed' ? s.error.message : c.state === 'failed' || c.state === 'reconnecting' ? c.error?.message : c.state}`));
          }
        };
        const offCh = ch.subscribe(check);
        const offClient = client.subscribe(check);
        const off = (): void => (offCh(), offClient());
        check();
      });
      return {
        publish: (data) => client.publish('rtt', data),
        close: () => client.close(),
      };
    },
  };
}

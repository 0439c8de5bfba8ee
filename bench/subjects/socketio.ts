import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { Fetch, io as connectIo } from 'socket.io-client';
import { chunked, type Subject } from './types';

/**
 * Baseline: socket.io 4 restricted to one transport, rooms as channels, emit-with-ack as publish.
 * `polling` is socket.io-client's default polling in Node (XMLHttpRequest via xmlhttprequest-ssl);
 * `polling-fetch` the same server with the client's `fetch` polling transport (`Fetch`, socket.io-client ≥ 4.8).
 */
export function socketIo(mode: 'websocket' | 'polling' | 'polling-fetch'): Subject {
  const transport = mode === 'websocket' ? 'websocket' : 'polling';
  return {
    async startServer() {
      const http = createServer();
      const io = new Server(http, { transports: [transport], serveClient: false, maxHttpBufferSize: 1e8 });
      io.on('connection', (socket) => {
        void socket.join(String(socket.handshake.query.ch ?? ''));
        socket.on('p', (_data: unknown, ack: (v: number) => void) => ack(1));
      });
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      const port = (http.address() as AddressInfo).port;
      return {
        url: `http://127.0.0.1:${port}`,
        push: (n, make, chunk) => chunked(n, (i) => io.to('push').emit('m', make(i)), chunk),
        broadcast: (data) => void io.to('fan').emit('m', data),
        async close() {
          io.disconnectSockets(true);
          await new Promise((r) => io.close(r));
        },
      };
    },
    connect(url, channel, onData) {
      return new Promise((resolve, reject) => {
        const transports = mode === 'polling-fetch' ? [Fetch] : [transport];
        const socket = connectIo(url, { transports, forceNew: true, reconnection: false, query: { ch: channel } });
        socket.on('m', onData);
        socket.once('connect_error', reject);
        socket.once('connect', () =>
          resolve({
            publish: (data) => socket.emitWithAck('p', data),
            close: () => socket.disconnect(),
          }),
        );
      });
    },
  };
}

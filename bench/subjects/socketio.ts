import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connectIo } from 'socket.io-client';
import { chunked, type Subject } from './types';

/** Baseline: socket.io 4 restricted to one transport, rooms as channels, emit-with-ack as publish. */
export function socketIo(transport: 'websocket' | 'polling'): Subject {
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
        push: (n, make) => chunked(n, (i) => io.to('push').emit('m', make(i))),
        broadcast: (data) => void io.to('fan').emit('m', data),
        async close() {
          io.disconnectSockets(true);
          await new Promise((r) => io.close(r));
        },
      };
    },
    connect(url, channel, onData) {
      return new Promise((resolve, reject) => {
        const socket = connectIo(url, { transports: [transport], forceNew: true, reconnection: false, query: { ch: channel } });
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

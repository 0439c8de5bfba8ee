import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface ThrottleProxy extends AsyncDisposable {
  readonly port: number;
  /** `url` (ws: or http:) with its port pointed at the proxy. */
  via(url: string): string;
  /** Bytes passed from the server to clients so far. */
  readonly downstreamBytes: number;
}

export interface ThrottleOptions {
  /** Bytes let through per tick towards the client, per connection. */
  readonly bytesPerTick: number;
  /** Tick length in ms. The rate is `bytesPerTick / tickMs`; a loaded machine only makes it slower. */
  readonly tickMs: number;
}

/** Stop reading from the server while this much waits to go to the client (back-pressure to the server). */
const HIGH_WATER = 256 * 1024;

/**
 * A TCP proxy in front of a real server that lets the server's bytes reach the client only at
 * a bounded rate (client → server is not slowed). It works below HTTP and WebSocket, so one large
 * frame trickles in the same way over every transport — a slow mobile link, a congested proxy.
 */
export async function startThrottleProxy(targetPort: number, { bytesPerTick, tickMs }: ThrottleOptions): Promise<ThrottleProxy> {
  const sockets = new Set<Socket>();
  let downstreamBytes = 0;

  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const pending: Buffer[] = [];
    let pendingBytes = 0;
    const pump = setInterval(() => {
      let budget = bytesPerTick;
      while (budget > 0 && pending.length) {
        const head = pending[0]!;
        const piece = head.subarray(0, budget);
        if (piece.length === head.length) pending.shift();
        else pending[0] = head.subarray(piece.length);
        budget -= piece.length;
        pendingBytes -= piece.length;
        downstreamBytes += piece.length;
        client.write(piece);
      }
      if (pendingBytes < HIGH_WATER && upstream.isPaused()) upstream.resume();
      if (!pending.length && upstream.destroyed) end();
    }, tickMs);
    upstream.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= HIGH_WATER) upstream.pause();
    });
    client.pipe(upstream);
    const end = (): void => {
      clearInterval(pump);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    // The server hung up: let what it sent drain at the same rate first (the pump ends it).
    upstream.on('error', end).on('close', () => !pending.length && end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    via(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    get downstreamBytes() {
      return downstreamBytes;
    },
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

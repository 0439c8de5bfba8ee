import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { forwardRequest, forwardUpgrade } from '../../../../examples/shared/forward';

export interface RoundRobinProxy {
  readonly port: number;
  /** HTTP requests (not upgrades) that carried a `sid`, per node port: where a session's requests landed. */
  readonly sessionRequests: Map<number, number>;
  /** The node port of every request that opened an SSE or long-poll session, in order. */
  readonly opened: number[];
  close(): Promise<void>;
}

/**
 * A load balancer with no stickiness at all, as nginx round-robin without `ip_hash`: every HTTP
 * request goes to the next node in turn (its own upstream connection, no keep-alive, so a client's
 * pooled connection does not pin it to one node), and every WebSocket upgrade too (then the socket
 * stays on that node until it dies). A request to a dead node is answered 502 and the client retries.
 */
export async function startRoundRobinProxy(ports: readonly number[]): Promise<RoundRobinProxy> {
  let turn = 0;
  const next = (): number => ports[turn++ % ports.length]!;
  const sockets = new Set<Socket | Duplex>();
  const track = (socket: Socket | Duplex): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  const sessionRequests = new Map<number, number>();
  const opened: number[] = [];

  const server = createServer((req, res) => {
    const port = next();
    if (req.url?.includes('sid=')) sessionRequests.set(port, (sessionRequests.get(port) ?? 0) + 1);
    else if (/\/(sse|poll)(\?|$)/.test(req.url ?? '') && req.method !== 'OPTIONS') opened.push(port);
    forwardRequest(req, res, port);
  });
  server.on('connection', track);
  server.on('upgrade', (req: IncomingMessage, inbound: Duplex, head: Buffer) => {
    track(inbound);
    forwardUpgrade(req, inbound, head, next(), track);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sessionRequests,
    opened,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

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
    const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res); // streams (SSE) as it comes
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('node unreachable');
      else res.destroy();
    });
    req.pipe(upstream);
    // The client gave up (or the answer is complete): nothing more to carry.
    res.on('close', () => upstream.destroy());
  });
  server.on('connection', track);
  server.on('upgrade', (req: IncomingMessage, inbound: Duplex, head: Buffer) => {
    track(inbound);
    const outbound = connect(next(), '127.0.0.1');
    track(outbound);
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    outbound.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length) outbound.write(head);
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
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

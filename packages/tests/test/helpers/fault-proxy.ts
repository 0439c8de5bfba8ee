import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** What the proxy does to one kind of traffic. */
export type Fault = 'pass' | 'refuse' | 'blackhole';
/** Traffic kinds: WebSocket upgrades, SSE streams (Accept: text/event-stream), everything else over HTTP. */
export type TrafficKind = 'websocket' | 'sse' | 'http';

export interface FaultProxy extends AsyncDisposable {
  readonly port: number;
  /** The proxied Tidewire endpoint, e.g. http://127.0.0.1:PORT/tidewire */
  url(path?: string): string;
  set(kind: TrafficKind, fault: Fault): void;
  /** Requests seen, in order, as "KIND METHOD URL". */
  readonly log: string[];
}

const classify = (req: IncomingMessage): TrafficKind =>
  req.headers.upgrade?.toLowerCase() === 'websocket'
    ? 'websocket'
    : String(req.headers.accept ?? '').includes('text/event-stream')
      ? 'sse'
      : 'http';

/**
 * A small HTTP proxy in front of a real server that can refuse or black-hole each kind of
 * traffic independently — the corporate proxies and middleboxes that make fallback necessary.
 * Classification is per request (not per TCP connection), so keep-alive reuse cannot slip past it.
 */
export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const faults: Record<TrafficKind, Fault> = { websocket: 'pass', sse: 'pass', http: 'pass' };
  const held = new Set<Socket>();
  const log: string[] = [];
  const hold = (socket: Socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
  };

  const server: Server = createServer((req, res) => {
    const kind = classify(req);
    log.push(`${kind} ${req.method} ${req.url}`);
    const fault = faults[kind];
    if (fault === 'refuse') return void res.writeHead(403, { connection: 'close' }).end('blocked by proxy');
    if (fault === 'blackhole') return hold(req.socket);
    const upstream = request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.flushHeaders();
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    log.push(`websocket GET ${req.url}`);
    const fault = faults.websocket;
    if (fault === 'refuse') return void socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    if (fault === 'blackhole') return hold(socket);
    const upstream = connect(targetPort, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    upstream.on('error', end);
    socket.on('error', end);
    socket.on('close', end);
    upstream.on('close', end);
  });

  server.on('connection', (socket: Socket) => socket.on('error', () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    log,
    url: (path = '/tidewire') => `http://127.0.0.1:${port}${path}`,
    set: (kind, fault) => {
      faults[kind] = fault;
    },
    async [Symbol.asyncDispose]() {
      for (const socket of held) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface RoundRobinProxy {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A TCP load balancer with no stickiness at all: each new connection goes to
 * the next port in turn. A WebSocket is one connection, so it stays on its
 * node until that node dies; the reconnect lands wherever the turn is. A
 * connection to a dead node fails and the client simply tries again.
 */
export async function startRoundRobinProxy(ports: readonly number[]): Promise<RoundRobinProxy> {
  let turn = 0;
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(ports[turn++ % ports.length]!, '127.0.0.1');
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

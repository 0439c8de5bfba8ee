/**
 * A load balancer's two moves, for example front doors: carry one plain HTTP request to a node
 * (streaming its answer, so SSE flows as it comes), and splice a WebSocket upgrade onto a raw TCP
 * connection to a node. No stickiness and no keep-alive upstream: each request is its own
 * connection, so a browser's pooled connection never pins its requests to one node.
 */
import { request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** The request line and headers as they came, for the node behind the front door. */
function rawHead(req: IncomingMessage): string {
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i < req.rawHeaders.length; i += 2) head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  return `${head}\r\n`;
}

/**
 * Forward `req` to 127.0.0.1:`port` and pipe the answer back as it arrives. A node that cannot be
 * reached is answered 502; one that dies mid-answer (an SSE stream, a held poll) cuts the answer
 * off, as a crash would, and the client reconnects.
 * @param track called with the upstream socket, which closes when the exchange is over
 */
export function forwardRequest(req: IncomingMessage, res: ServerResponse, port: number, track?: (upstream: Socket) => void): void {
  const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
    answer.on('close', () => !answer.complete && res.destroy());
  });
  if (track) upstream.on('socket', track);
  upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502, { 'content-type': 'text/plain' }).end('node unreachable')));
  req.pipe(upstream);
  // The client gave up (or the answer is complete): nothing more to carry.
  res.on('close', () => upstream.destroy());
}

/**
 * Splice a WebSocket upgrade onto a TCP connection to 127.0.0.1:`port`: the node answers the
 * handshake itself, and the two sockets live and die together.
 * @param track called with the upstream socket
 */
export function forwardUpgrade(req: IncomingMessage, inbound: Duplex, head: Buffer, port: number, track?: (upstream: Socket) => void): void {
  const outbound = connect(port, '127.0.0.1');
  outbound.write(rawHead(req)); // buffered until connected
  if (head.length) outbound.write(head);
  track?.(outbound);
  outbound.on('close', () => inbound.destroy());
  inbound.on('close', () => outbound.destroy());
  for (const socket of [inbound, outbound]) socket.on('error', () => {});
  inbound.pipe(outbound).pipe(inbound);
}

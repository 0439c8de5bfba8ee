import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';

/**
 * The request an in-process connection "arrived with", for the server's `authenticate` and
 * `authorize` hooks (`ctx.request.headers.cookie`, …). A real `IncomingMessage` on an unconnected
 * socket: nothing is read from or written to it.
 * @param path the request path (default `/tidewire`)
 * @param headers header names are lower-cased, as Node does for real requests
 * @returns a GET request carrying `headers`
 */
export function inProcessRequest(path = '/tidewire', headers: Readonly<Record<string, string>> = {}): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  request.method = 'GET';
  request.url = path;
  for (const [name, value] of Object.entries(headers)) request.headers[name.toLowerCase()] = value;
  return request;
}

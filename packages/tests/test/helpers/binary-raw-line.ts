import WebSocket from 'ws';
import { until } from './servers';

/** A raw line: a parsed text frame, never trusted. */
type Seen = { readonly type?: unknown; readonly id?: unknown; readonly [key: string]: unknown };

/**
 * A raw `ws` line (no SDK) to the real server for the binary-frame tests: it sends `connect` with
 * `features` and sorts what comes back into parsed text frames and raw binary frames.
 */
export async function openNegotiatedLine(url: string, features: string[]) {
  const socket = new WebSocket(url.replace(/^http/, 'ws'));
  const texts: Seen[] = [];
  const binaries: Buffer[] = [];
  socket.on('message', (data, isBinary) => {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
    if (isBinary) binaries.push(bytes);
    else texts.push(JSON.parse(bytes.toString()) as Seen);
  });
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => {}); // 'close' follows
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connect', v: 1, features }));
  await until(() => texts.some((f) => f.type === 'connected'), 'connected');
  return {
    socket,
    texts,
    binaries,
    connected: texts.find((f) => f.type === 'connected') as { features?: string[] },
    sendText: (frame: object) => socket.send(JSON.stringify(frame)),
    /** Whether the server ended the line. */
    get closed() {
      return closed;
    },
  };
}

import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, type RawData } from 'ws';
import { BINARY_FEATURE } from '@tidewire/core/binary';
import { CLOSE_CODE_NUMBERS, encodeFrame, type CloseCode } from '@tidewire/core/protocol';
import { BURST_FLUSH_CHARS, afterBurst } from '../afterBurst';
import { binaryFrameOf } from '../encode';
import type { Logger } from '../hooks';
import { binaryInboundToText, type InboundLimits } from '../inboundFrame';
import type { Link } from '../link';
import type { Session } from '../session';
import { WsFrameBatch, frameOnce } from './wsFrameBatch';

/** After a close frame, how long a client gets to finish the closing handshake before the socket is cut. */
const CLOSE_GRACE_MS = 1000;

const TOO_LARGE_MESSAGE = 'frame exceeds the hard size limit';

/**
 * Binary frames (protocol §17.2) per socket: `asked` once the client's `connect` listed the
 * `binary` feature, `on` once our `connected` listed it back, `off` when the client did not ask.
 * Absent: no text frame yet. Negotiated here, at the WebSocket boundary, because only this
 * transport can carry binary frames; the session above sees text frames either way.
 */
type Negotiation = 'asked' | 'on' | 'off';
const negotiations = new WeakMap<WebSocket, Negotiation>();

/** Per socket, its link's "write what this burst batched": called before any close frame. */
const batchFlushers = new WeakMap<WebSocket, () => void>();

/** Whether the client's first frame is a `connect` listing the `binary` feature. */
function asksForBinary(text: string): boolean {
  try {
    const frame = JSON.parse(text) as { type?: unknown; features?: unknown };
    return frame.type === 'connect' && Array.isArray(frame.features) && frame.features.includes(BINARY_FEATURE);
  } catch {
    return false; // the session refuses it with the exact reason
  }
}

/** Our `connected` frame with `binary` added to its features. */
function withBinaryFeature(text: string): string {
  const frame = JSON.parse(text) as { features?: string[] };
  return JSON.stringify({ ...frame, features: [...(frame.features ?? []), BINARY_FEATURE] });
}

/**
 * `ws` enforces `maxPayload` itself and closes with 1009, which no Tidewire
 * client maps to a reason. WebSocketServer lets us supply the socket class, so
 * this one turns that close into the protocol's `too_large` (close frame + 4413).
 */
export class TidewireWebSocket extends WebSocket {
  override close(code?: number, data?: string | Buffer): void {
    // ws closes on its own too (a frame over maxPayload, a protocol error, read in the middle of a
    // burst): what the link batched so far still goes first.
    batchFlushers.get(this)?.();
    if (code === 1009 && this.readyState === WebSocket.OPEN) {
      this.send(encodeFrame({ type: 'close', code: 'too_large', message: TOO_LARGE_MESSAGE }));
      super.close(CLOSE_CODE_NUMBERS.too_large, TOO_LARGE_MESSAGE);
      return;
    }
    super.close(code, data);
  }
}

/**
 * Wrap a `ws` socket as a Link. `stream` is the TCP socket the upgrade came on
 * (the one `ws` writes to).
 *
 * The first frame of a burst (see afterBurst) goes out at once, framed here as one buffer
 * (`frameOnce`; a frame over `BURST_FLUSH_CHARS` through `ws`): a lone frame (an ack, one
 * fan-out message per subscriber) is not held back, so the client can start on it while the
 * server is still writing to the others, and a fan-out frames its message once for all. The rest of the
 * burst — a publish loop, a replay — is framed into one buffer (WsFrameBatch) and
 * written to `stream` in one write when the burst ends, or as soon as
 * `BURST_FLUSH_CHARS` bytes are batched: a synchronous loop of 200,000 publishes must
 * not become one huge write at its end (the client idle until then, every frame held
 * in memory at once). Batched that way, the frames reach the kernel as they
 * accumulate, the client works while the server is still publishing, and a frame
 * costs one copy instead of `ws`'s two buffers and two stream writes.
 *
 * Writing to `stream` beside `ws` keeps the order because `ws` writes synchronously
 * (the server negotiates no compression) and the batch is always written out before
 * `ws` sends anything else: at the end of every burst, and before a close frame.
 */
export function wsLink(socket: WebSocket, request: IncomingMessage, stream: Duplex): Link {
  let closing = false;
  let inBurst = false;
  // A frame of at most BURST_FLUSH_CHARS bytes always fits after a flush; bigger ones go through ws.
  const batch = new WsFrameBatch(2 * BURST_FLUSH_CHARS);
  const flushBatch = (): void => {
    if (batch.bytes === 0) return;
    const bytes = batch.take();
    if (socket.readyState === WebSocket.OPEN) stream.write(bytes);
  };
  batchFlushers.set(socket, flushBatch);
  const endBurst = (): void => {
    inBurst = false;
    flushBatch();
  };
  const origin = request.headers.origin;
  return {
    ...(origin !== undefined && { remoteOrigin: origin }),
    transport: 'websocket',
    send(text) {
      if (socket.readyState !== WebSocket.OPEN) return;
      let frame: string | Buffer = text;
      const negotiation = negotiations.get(socket);
      if (negotiation === 'on') frame = binaryFrameOf(text) ?? text;
      else if (negotiation === 'asked' && text.startsWith('{"type":"connected"')) {
        frame = withBinaryFeature(text);
        negotiations.set(socket, 'on');
      }
      if (!inBurst) {
        inBurst = true;
        afterBurst(endBurst);
        // Framed here, as one buffer and one write (and shared by every subscriber of a fan-out).
        if ((typeof frame === 'string' ? frame.length : frame.byteLength) <= BURST_FLUSH_CHARS) return void stream.write(frameOnce(frame));
        return socket.send(frame);
      }
      if (!batch.append(frame)) {
        flushBatch();
        // Larger than a whole batch: ws frames it (written after the batch, so still in order).
        if (!batch.append(frame)) return socket.send(frame);
      }
      if (batch.bytes >= BURST_FLUSH_CHARS) flushBatch();
    },
    close(code: CloseCode, message: string, retryAfter?: number) {
      if (closing || socket.readyState !== WebSocket.OPEN) return;
      closing = true;
      flushBatch(); // what this burst already sent comes before the close frame
      socket.send(encodeFrame({ type: 'close', code, message, ...(retryAfter !== undefined && { retryAfter }) }));
      socket.close(CLOSE_CODE_NUMBERS[code], truncateReason(message));
      // A stuck client (e.g. a slow consumer whose buffers are full) never completes the
      // handshake; ws would wait 30 s. Cut it sooner.
      const timer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
      socket.once('close', () => clearTimeout(timer));
    },
    bufferedBytes: () => socket.bufferedAmount + batch.bytes,
  };
}

/**
 * Feed a socket's frames into its session and report the socket's end.
 *
 * A binary frame is a frame of ours only once the `binary` feature is negotiated; it is then
 * turned into the text frame it stands for (inboundFrame.ts), and a malformed one gets the same
 * answer as a malformed text frame (`bad_request`, nothing else lost).
 *
 * The server runs `ws` with `skipUTF8Validation`, so a text frame that is not UTF-8 reaches us
 * instead of being closed 1007 with no `close` frame: it goes through the session's one invalid-frame
 * path (`bad_request`, or `close protocol_error` before `connect`), like a binary frame.
 */
export function bindWsSession(socket: WebSocket, session: Session, logger: Logger, limits: InboundLimits): void {
  socket.on('message', (data: RawData, isBinary: boolean) => {
    const bytes = toBuffer(data);
    if (isBinary) {
      if (negotiations.get(socket) !== 'on') {
        return session.receiveInvalid('binary frames need the "binary" feature (protocol §17.2); send JSON text frames');
      }
      const decoded = binaryInboundToText(bytes, limits);
      return decoded.ok ? session.receive(decoded.text, bytes.length) : session.receiveInvalid(decoded.reason, decoded.id);
    }
    if (!isUtf8(bytes)) return session.receiveInvalid('text frame is not valid UTF-8');
    const text = bytes.toString('utf8');
    if (!negotiations.has(socket)) negotiations.set(socket, asksForBinary(text) ? 'asked' : 'off');
    session.receive(text);
  });
  socket.on('close', () => session.onLinkClosed());
  // Without a listener an 'error' event would crash the process; 'close' follows and cleans up.
  socket.on('error', (e) => logger.warn('tidewire: websocket error', e));
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
function truncateReason(message: string): string {
  const buf = Buffer.from(message, 'utf8');
  return buf.length <= 123 ? message : buf.subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '') + '…';
}

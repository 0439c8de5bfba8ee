import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, type RawData } from 'ws';
import { BINARY_FEATURE } from '@tidewire/core/binary';
import { CLOSE_CODE_NUMBERS, LINES_FEATURE, encodeFrame, type CloseCode } from '@tidewire/core/protocol';
import { BURST_FLUSH_CHARS, afterBurst } from '../afterBurst';
import { binaryFrameOf } from '../encode';
import type { Logger } from '../hooks';
import { binaryInboundToText, type InboundLimits } from '../inboundFrame';
import type { Link } from '../link';
import type { Session } from '../session';
import { CLOSE_GRACE_MS } from './endThenRelease'; // after a close frame, the time to finish the closing handshake
import { WsFrameBatch, frameOnce } from './wsFrameBatch';


const TOO_LARGE_MESSAGE = 'frame exceeds the hard size limit';

/**
 * The WebSocket-only capabilities a client asked for in its `connect` and we list back in
 * `connected`: `binary` frames (protocol §17.2) and `lines`, several frames in one text message
 * (§17.4). Per socket: absent until its first text frame; then what the `connect` asked for
 * (`asked`), in force once our `connected` listed it (`on`). Negotiated here, at the WebSocket
 * boundary, because only this transport carries them; the session above sees single text frames.
 */
interface WireFeatures {
  readonly asked: readonly string[];
  on: boolean;
}
const negotiations = new WeakMap<WebSocket, WireFeatures>();
const WIRE_FEATURES: readonly string[] = [BINARY_FEATURE, LINES_FEATURE];

/** Per socket, its link's "write what this burst batched": called before any close frame. */
const batchFlushers = new WeakMap<WebSocket, () => void>();

/** The WebSocket-only features the client's first frame asks for (none unless it is a `connect` listing them). */
function askedFeatures(text: string): string[] {
  try {
    const frame = JSON.parse(text) as { type?: unknown; features?: unknown };
    if (frame.type !== 'connect' || !Array.isArray(frame.features)) return [];
    return WIRE_FEATURES.filter((feature) => (frame.features as unknown[]).includes(feature));
  } catch {
    return []; // the session refuses it with the exact reason
  }
}

/** Our `connected` frame with `features` added to its features. */
function withFeatures(text: string, features: readonly string[]): string {
  const frame = JSON.parse(text) as { features?: string[] };
  return JSON.stringify({ ...frame, features: [...(frame.features ?? []), ...features] });
}

/** Whether `feature` is in force on `socket`. */
function negotiated(socket: WebSocket, feature: string): boolean {
  const wire = negotiations.get(socket);
  return wire !== undefined && wire.on && wire.asked.includes(feature);
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
 * With the `lines` feature (protocol §17.4) the burst's text frames after the first go out as one
 * text message, joined by `\n`: the client parses one WebSocket message instead of one per frame (in
 * the cluster benchmark a publisher takes its acks and deliveries in bursts).
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
  // With `lines`: the burst's text frames, framed as one message (joined by `\n`) when the batch is written.
  let lines: string[] = [];
  let lineChars = 0;
  const writeBatch = (): void => {
    if (batch.bytes === 0) return;
    const bytes = batch.take();
    if (socket.readyState === WebSocket.OPEN) stream.write(bytes);
  };
  const frameLines = (): void => {
    if (lines.length === 0) return;
    const text = lines.length === 1 ? lines[0]! : lines.join('\n');
    lines = [];
    lineChars = 0;
    if (batch.append(text)) return;
    writeBatch(); // what is batched goes first
    if (!batch.append(text)) socket.send(text); // a run longer than a batch: ws frames it, after the batch
  };
  const flushBatch = (): void => {
    frameLines();
    writeBatch();
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
      const wire = negotiations.get(socket);
      if (wire?.on) {
        if (wire.asked.includes(BINARY_FEATURE)) frame = binaryFrameOf(text) ?? text;
      } else if (wire && wire.asked.length > 0 && text.startsWith('{"type":"connected"')) {
        frame = withFeatures(text, wire.asked);
        wire.on = true;
      }
      if (!inBurst) {
        inBurst = true;
        afterBurst(endBurst);
        // Framed here, as one buffer and one write (and shared by every subscriber of a fan-out).
        if ((typeof frame === 'string' ? frame.length : frame.byteLength) <= BURST_FLUSH_CHARS) return void stream.write(frameOnce(frame));
        return socket.send(frame);
      }
      if (typeof frame === 'string' && frame.length <= BURST_FLUSH_CHARS && wire?.on && wire.asked.includes(LINES_FEATURE)) {
        lines.push(frame);
        lineChars += frame.length + 1;
      } else {
        frameLines(); // a binary or a long frame ends the run: the order stays
        if (!batch.append(frame)) {
          flushBatch();
          // Larger than a whole batch: ws frames it (written after the batch, so still in order).
          if (!batch.append(frame)) return socket.send(frame);
        }
      }
      if (batch.bytes + lineChars >= BURST_FLUSH_CHARS) flushBatch();
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
    bufferedBytes: () => socket.bufferedAmount + batch.bytes + lineChars,
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
      if (!negotiated(socket, BINARY_FEATURE)) {
        return session.receiveInvalid('binary frames need the "binary" feature (protocol §17.2); send JSON text frames');
      }
      const decoded = binaryInboundToText(bytes, limits);
      return decoded.ok ? session.receive(decoded.text, bytes.length) : session.receiveInvalid(decoded.reason, decoded.id);
    }
    if (!isUtf8(bytes)) return session.receiveInvalid('text frame is not valid UTF-8');
    const text = bytes.toString('utf8');
    if (!negotiations.has(socket)) negotiations.set(socket, { asked: askedFeatures(text), on: false });
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

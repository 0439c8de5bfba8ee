/**
 * WebSocket frames of one burst, framed into one buffer (RFC 6455 §5.2: server frames are not
 * masked; Tidewire's server negotiates no extension, so no RSV bit is ever set).
 *
 * Why not `ws`'s `send` for each: per frame it allocates a header buffer and a payload buffer and
 * makes two stream writes (two entries in the stream's write queue, two iovecs in the `writev`).
 * In a publish loop that was most of the server's time and garbage (push profile: `writev` and GC
 * a third of the samples). Framed here, a burst costs one copy of its text into one buffer and
 * one stream write per `BURST_FLUSH_CHARS`.
 */

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const FIN = 0x80;

/** Bytes of header for a payload of `length` bytes. */
function headerBytes(length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10;
}

/** Write one frame (header, then payload) into `buffer` at `at`; returns where it ends. */
function writeFrame(buffer: Buffer, at: number, payload: string | Uint8Array, length: number, header: number): number {
  const text = typeof payload === 'string';
  buffer[at++] = FIN | (text ? OPCODE_TEXT : OPCODE_BINARY);
  if (header === 2) buffer[at++] = length;
  else if (header === 4) {
    buffer[at++] = 126;
    at = buffer.writeUInt16BE(length, at);
  } else {
    buffer[at++] = 127;
    at = buffer.writeUInt32BE(Math.floor(length / 2 ** 32), at);
    at = buffer.writeUInt32BE(length >>> 0, at);
  }
  if (text) buffer.write(payload, at, length, 'utf8');
  else buffer.set(payload, at);
  return at + length;
}

let lastPayload: string | Uint8Array | undefined;
let lastFrame: Buffer | undefined;

/**
 * One frame as one buffer of exactly its size, for a frame written on its own (the first of a burst:
 * an ack, one fan-out message per subscriber). `ws`'s `send` would allocate a header buffer and make
 * two stream writes (cork, two writes, uncork, a two-entry `writev`) for every frame and every
 * subscriber; this is one copy and one write. A fan-out hands the same text to every subscriber in one
 * loop, so the last frame is remembered: 1,000 subscribers share one buffer, encoded once (streams never
 * change what they are given).
 * @param payload a text frame's string, or a binary frame's bytes
 * @returns the framed bytes
 */
export function frameOnce(payload: string | Uint8Array): Buffer {
  if (payload === lastPayload && lastFrame) return lastFrame;
  const length = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
  const header = headerBytes(length);
  const frame = Buffer.allocUnsafe(header + length);
  writeFrame(frame, 0, payload, length, header);
  // Bytes may be changed by their owner after this call; only immutable strings are remembered.
  lastPayload = typeof payload === 'string' ? payload : undefined;
  lastFrame = frame;
  return frame;
}

export class WsFrameBatch {
  #buffer: Buffer | undefined;
  #used = 0;

  /** @param capacity the most bytes one batch holds; a frame that does not fit is refused by {@link append}. */
  constructor(private readonly capacity: number) {}

  /** Bytes framed and not yet taken. */
  get bytes(): number {
    return this.#used;
  }

  /**
   * Frame `payload` (a string: a text frame; bytes: a binary frame) after what is batched.
   * @returns false, with nothing added, when the frame would not fit in what is left of the capacity
   */
  append(payload: string | Uint8Array): boolean {
    const text = typeof payload === 'string';
    const length = text ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
    const header = headerBytes(length);
    if (this.#used + header + length > this.capacity) return false;
    const buffer = (this.#buffer ??= Buffer.allocUnsafe(this.capacity));
    this.#used = writeFrame(buffer, this.#used, payload, length, header);
    return true;
  }

  /** The framed bytes, handed over (the batch starts a new buffer: the stream may still hold this one). */
  take(): Buffer {
    const out = this.#buffer!.subarray(0, this.#used);
    this.#buffer = undefined;
    this.#used = 0;
    return out;
  }
}

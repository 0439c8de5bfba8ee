import { textToBinaryFrame } from '@tidewire/core/binary';
import { encodeFrame } from '@tidewire/core/protocol';
import type { BrokerMessage } from './broker/broker';

/**
 * A published message goes to every subscriber as the same `message` frame;
 * encode it once per message, not once per subscriber.
 *
 * Live, the broker hands a message to all of its subscribers in one synchronous
 * loop, so remembering the last message encoded is enough, and it costs nothing.
 * Replays are not consecutive (many clients reconnecting replay the same history),
 * so they go through a WeakMap that lives exactly as long as the broker keeps the
 * message. Live messages stay out of it: a weak entry per published message was
 * measurable GC work in the push profile.
 */
let lastMessage: BrokerMessage | undefined;
let lastChannel = '';
let lastText = '';

export function encodeMessage(channel: string, m: BrokerMessage): string {
  if (m === lastMessage && channel === lastChannel) return lastText;
  lastText = encode(channel, m);
  lastMessage = m;
  lastChannel = channel;
  return lastText;
}

const replayCache = new WeakMap<BrokerMessage, { channel: string; text: string }>();

/** For messages from history: the same ones are often replayed to many clients. */
export function encodeReplayed(channel: string, m: BrokerMessage): string {
  const hit = replayCache.get(m);
  if (hit?.channel === channel) return hit.text;
  const text = encode(channel, m);
  replayCache.set(m, { channel, text });
  return text;
}

/**
 * The JSON text of the data `server.publish` is storing right now (it stringified it once to
 * validate and measure it), so the `message` frame splices that text in instead of stringifying
 * the data a second time. Set only around the broker's `publish` call (see {@link withPublishedText}):
 * a broker that delivers synchronously (the memory broker) hands the very same `data` object to
 * its subscribers inside that call; any other delivery finds nothing remembered and encodes as before.
 */
let publishedData: unknown;
let publishedText: string | undefined;

/**
 * Run `store` (the broker's publish) with the JSON text of `data` remembered, so a message
 * delivered during it is encoded without stringifying `data` again.
 * @param data the published data, exactly as handed to the broker
 * @param text `JSON.stringify(data)`
 * @param store the call that stores and (for an in-process broker) delivers it
 * @returns what `store` returns
 */
export function withPublishedText<T>(data: unknown, text: string, store: () => T): T {
  publishedData = data;
  publishedText = text;
  try {
    return store();
  } finally {
    publishedData = undefined;
    publishedText = undefined;
  }
}

/** The frame's start for the last channel and epoch spliced: the same for every message of a publish loop. */
let headChannel = '';
let headEpoch = '';
let head = '';

function encode(channel: string, m: BrokerMessage): string {
  if (publishedText !== undefined && m.data === publishedData) {
    if (channel !== headChannel || m.epoch !== headEpoch || head === '') {
      head = `{"type":"message","channel":${JSON.stringify(channel)},"epoch":${JSON.stringify(m.epoch)},"offset":`;
      headChannel = channel;
      headEpoch = m.epoch;
    }
    // Byte for byte what encodeFrame writes for this frame: the same keys in the same order.
    return `${head}${m.offset},"id":${JSON.stringify(m.id)},"data":${publishedText}}`;
  }
  return encodeFrame({ type: 'message', channel, epoch: m.epoch, offset: m.offset, id: m.id, data: m.data });
}

/** The `id` of a frame that failed validation, if one can be read, so the error can be correlated. */
export function peekId(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && Object.hasOwn(value, 'id')) {
      const id = (value as { id: unknown }).id;
      if (typeof id === 'string' && id.length <= 256) return id;
    }
  } catch {
    // not JSON: no id to report
  }
  return undefined;
}

/** Frames the server may send as binary (protocol §17.2): only these are worth parsing on the way out. */
const BINARY_CANDIDATE = /^\{"type":"(?:message|result)"/;
let lastBinaryText = '';
let lastBinaryFrame: Buffer | undefined;

/**
 * The binary WebSocket frame a `message` or `result` frame whose data is the bytes envelope travels
 * as to a client that negotiated the `binary` feature; undefined for every other frame (it goes as
 * text). A fan-out hands the same text to every subscriber in one loop, so the last conversion is
 * remembered, like {@link encodeMessage}'s: the envelope is decoded once per message, not per client.
 * @param text an encoded server frame
 */
export function binaryFrameOf(text: string): Buffer | undefined {
  if (!BINARY_CANDIDATE.test(text)) return undefined;
  if (text === lastBinaryText) return lastBinaryFrame;
  const frame = textToBinaryFrame(text, 'server');
  lastBinaryText = text;
  lastBinaryFrame = frame && Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  return lastBinaryFrame;
}

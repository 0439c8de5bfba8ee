import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binaryFrameToText, encodeBinaryFrame, splitBinaryFrame, textToBinaryFrame } from '../src/binary-frame';
import { binaryWebSocket } from '../src/binary-websocket';
import type { WebSocketConstructor, WebSocketLike } from '../src/transport';
import { fullRecorder } from './http-line-fake';

describe('binary frame layout (protocol §17.2)', () => {
  it('a text frame with a bytes envelope and its binary frame turn into each other, for any header and payload', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.uint8Array({ maxLength: 5000 }), (id, channel, bytes) => {
        const text = JSON.stringify({ type: 'publish', id, channel, data: { $b64: Buffer.from(bytes).toString('base64') } });
        const frame = textToBinaryFrame(text, 'client')!;
        const parts = splitBinaryFrame(frame);
        expect(parts.ok && JSON.parse(parts.header)).toEqual({ type: 'publish', id, channel });
        expect(parts.ok && Buffer.from(parts.payload).equals(bytes)).toBe(true);
        expect(binaryFrameToText(frame, 'client')).toEqual({ ok: true, text });
      }),
      { numRuns: 100 },
    );
  });

  it('lays out a 4-byte big-endian header length, the UTF-8 header, then the raw payload', () => {
    const frame = encodeBinaryFrame('{"type":"message","é":1}', Uint8Array.of(7, 8));
    expect([...frame.subarray(0, 4)]).toEqual([0, 0, 0, 25]);
    expect(Buffer.from(frame.subarray(4, 29)).toString()).toBe('{"type":"message","é":1}');
    expect([...frame.subarray(29)]).toEqual([7, 8]);
  });

  it('only frames that carry bytes, of a type allowed in that direction, become binary', () => {
    const envelope = { $b64: 'AQID' };
    expect(textToBinaryFrame(JSON.stringify({ type: 'publish', id: 'a', channel: 'c', data: { x: 1 } }), 'client')).toBeUndefined();
    expect(textToBinaryFrame(JSON.stringify({ type: 'message', channel: 'c', data: envelope }), 'client')).toBeUndefined();
    expect(textToBinaryFrame(JSON.stringify({ type: 'publish', id: 'a', channel: 'c', data: envelope }), 'server')).toBeUndefined();
    expect(textToBinaryFrame(JSON.stringify({ type: 'result', id: 'a', data: envelope }), 'server')).toBeInstanceOf(Uint8Array);
    expect(textToBinaryFrame(JSON.stringify({ type: 'rpc', id: 'a', method: 'm', data: { $b64: '!!' } }), 'client')).toBeUndefined(); // not base64
    expect(textToBinaryFrame('not json', 'client')).toBeUndefined();
  });

  it.each([
    ['truncated', Uint8Array.of(0, 0), /truncated/],
    ['a header length past the end', encodeBinaryFrame('{}', new Uint8Array(0)).map((b, i) => (i === 3 ? 200 : b)), /runs past the frame/],
    ['a header that is not UTF-8', Uint8Array.of(0, 0, 0, 1, 0xff), /not valid UTF-8/],
    ['a header that is not JSON', encodeBinaryFrame('{', new Uint8Array(0)), /not valid JSON/],
    ['a header that is not an object', encodeBinaryFrame('"message"', new Uint8Array(0)), /not a JSON object/],
    ['a header of a type that carries no data', encodeBinaryFrame('{"type":"ack","id":"a"}', new Uint8Array(0)), /cannot carry bytes/],
    ['a header with its own data', encodeBinaryFrame('{"type":"message","data":1}', new Uint8Array(0)), /"data" field/],
  ])('refuses %s with a reason, never a throw', (_, frame, reason) => {
    expect(binaryFrameToText(frame, 'server')).toEqual({ ok: false, reason: expect.stringMatching(reason) });
  });
});

/** A WebSocket the test plays the server of. */
class FakeSocket implements WebSocketLike {
  static last: FakeSocket;
  readyState = 1;
  bufferedAmount = 0;
  binaryType = 'blob';
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: (string | Uint8Array)[] = [];
  constructor() {
    FakeSocket.last = this;
  }
  send(data: string | Uint8Array): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
  }
}

function openLine() {
  const { log, events } = fullRecorder();
  const line = binaryWebSocket({ WebSocket: FakeSocket as unknown as WebSocketConstructor }).open({ url: 'ws://rt.test/x' }, events);
  const socket = FakeSocket.last;
  socket.onopen?.({});
  line.send('{"type":"connect","v":1}');
  return { log, line, socket };
}
const bytesPublish = '{"type":"publish","id":"p","channel":"c","data":{"$b64":"AQID"}}';
const bytesMessage = encodeBinaryFrame('{"type":"message","channel":"c","epoch":"e","offset":1,"id":"p"}', Uint8Array.of(1, 2, 3));

describe('binaryWebSocket()', () => {
  it('asks for the feature in connect and reads whole binary messages as ArrayBuffers', () => {
    const { socket } = openLine();
    expect(JSON.parse(socket.sent[0] as string)).toEqual({ type: 'connect', v: 1, features: ['binary'] });
    expect(socket.binaryType).toBe('arraybuffer');
  });

  it('once the server lists "binary", sends bytes publishes as binary frames and reads binary messages as their text frame', () => {
    const { log, line, socket } = openLine();
    socket.onmessage?.({ data: '{"type":"connected","v":1,"session":"s","heartbeat":1000,"maxPayload":100,"features":["rpc","binary"]}' });
    line.send(bytesPublish);
    line.send('{"type":"publish","id":"q","channel":"c","data":{"json":true}}');
    expect(socket.sent[1]).toBeInstanceOf(Uint8Array);
    expect(typeof socket.sent[2]).toBe('string');
    socket.onmessage?.({ data: bytesMessage.buffer });
    expect(JSON.parse(log.frames.at(-1)!)).toEqual({ type: 'message', channel: 'c', epoch: 'e', offset: 1, id: 'p', data: { $b64: 'AQID' } });
    socket.onmessage?.({ data: Uint8Array.of(0, 0, 0, 9).buffer });
    expect(log.invalid).toEqual([expect.stringMatching(/runs past the frame/)]);
  });

  it('with a server that does not list it, everything stays text and a binary message is invalid as with websocket()', () => {
    const { log, line, socket } = openLine();
    socket.onmessage?.({ data: '{"type":"connected","v":1,"session":"s","heartbeat":1000,"maxPayload":100}' });
    line.send(bytesPublish);
    expect(socket.sent[1]).toBe(bytesPublish);
    socket.onmessage?.({ data: bytesMessage.buffer });
    expect(log.invalid).toEqual([expect.stringMatching(/binary WebSocket message/)]);
  });
});

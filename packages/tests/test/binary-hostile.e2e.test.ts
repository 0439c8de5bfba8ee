import { describe, expect, it } from 'vitest';
import type { ChannelMessage } from '@tidewire/core';
import { binary, encodeBinaryFrame } from '@tidewire/core/binary';
import { openNegotiatedLine } from './helpers/binary-raw-line';
import { startServer, until } from './helpers/servers';

// Hostile binary WebSocket frames (protocol §17.2) from a raw line that negotiated the feature:
// each gets a typed `bad_request` (with the request's id when the header names one), the line
// stays open, and a valid binary publish afterwards is stored and delivered — nothing else lost.

const frameWithLength = (declared: number, rest: Uint8Array): Uint8Array => {
  const frame = new Uint8Array(4 + rest.length);
  new DataView(frame.buffer).setUint32(0, declared);
  frame.set(rest, 4);
  return frame;
};
const utf8 = (text: string) => new TextEncoder().encode(text);
const header = (fields: object) => JSON.stringify(fields);

/** One hostile frame each, with what the refusal must say and the id it must answer (if readable). */
const hostile: { name: string; frame: Uint8Array; reason: RegExp; id?: string }[] = [
  { name: 'shorter than the length prefix', frame: Uint8Array.of(0, 0, 1), reason: /truncated/ },
  { name: 'header length beyond the frame', frame: frameWithLength(1000, utf8('{"type":"publish"}')), reason: /runs past the frame/ },
  { name: 'header not UTF-8', frame: frameWithLength(2, Uint8Array.of(0xff, 0xfe)), reason: /not valid UTF-8/ },
  { name: 'header not JSON', frame: encodeBinaryFrame('{"type":"publish",', Uint8Array.of(1)), reason: /not valid JSON/ },
  { name: 'header a JSON array', frame: encodeBinaryFrame('["publish"]', Uint8Array.of(1)), reason: /not a JSON object/ },
  { name: 'a type that carries no data', frame: encodeBinaryFrame(header({ type: 'subscribe', id: 'h-sub', channel: 'c' }), new Uint8Array(0)), reason: /cannot carry bytes/, id: 'h-sub' },
  { name: 'a data field in the header', frame: encodeBinaryFrame(header({ type: 'publish', id: 'h-data', channel: 'c', data: 1 }), Uint8Array.of(1)), reason: /"data" field/, id: 'h-data' },
  {
    name: 'nesting past maxDepth',
    frame: encodeBinaryFrame(`{"type":"publish","id":"h-deep","channel":"c","x":${'['.repeat(5000)}${']'.repeat(5000)}}`, Uint8Array.of(1)),
    reason: /deeper than maxDepth/,
  },
  { name: 'a publish without a channel', frame: encodeBinaryFrame(header({ type: 'publish', id: 'h-chan' }), Uint8Array.of(1)), reason: /channel/, id: 'h-chan' },
];

describe('hostile binary frames against the real server', () => {
  it('each gets bad_request, the line stays open, and a valid binary publish after them is delivered once', async () => {
    await using t = await startServer({ logger: { warn: () => {}, error: () => {} } }, { codec: binary() });
    const bystander = t.client();
    const got: ChannelMessage[] = [];
    const watched = bystander.channel('c');
    watched.on('message', (m) => got.push(m));
    await until(() => watched.getSnapshot().state === 'subscribed', 'bystander subscribed');

    const line = await openNegotiatedLine(t.url, ['binary']);
    expect(line.connected.features).toContain('binary');
    for (const [i, { name, frame, reason, id }] of hostile.entries()) {
      line.socket.send(frame);
      await until(() => line.texts.filter((f) => f.type === 'error').length === i + 1, `an answer to: ${name}`);
      const answer = line.texts.filter((f) => f.type === 'error')[i]!;
      expect(answer, name).toMatchObject({ code: 'bad_request', message: expect.stringMatching(reason) });
      expect(answer.id, name).toBe(id);
    }
    line.socket.send(encodeBinaryFrame(header({ type: 'publish', id: 'good', channel: 'c' }), Uint8Array.of(4, 2)));
    await until(() => line.texts.some((f) => f.type === 'ack' && f.id === 'good'), 'the valid publish acked');
    await until(() => got.length === 1, 'the bystander got it');
    expect(got[0]!.data).toEqual(Uint8Array.of(4, 2));
    expect(got[0]!.id).toBe('good');
    expect(line.closed).toBe(false);
    line.socket.close();
  });

  it('a binary frame on a line that did not negotiate the feature is refused as before (bad_request), nothing stored', async () => {
    await using t = await startServer({ logger: { warn: () => {}, error: () => {} } });
    const line = await openNegotiatedLine(t.url, []);
    line.socket.send(encodeBinaryFrame(header({ type: 'publish', id: 'p', channel: 'c' }), Uint8Array.of(1)));
    await until(() => line.texts.some((f) => f.type === 'error'), 'refused');
    expect(line.texts.find((f) => f.type === 'error')).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/"binary" feature/) });
    const page = await t.client().channel('c').history({ limit: 10 });
    expect(page.messages).toHaveLength(0);
    line.socket.close();
  });
});

import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '@tidewire/core/protocol';
import { encodeMessage, withPublishedText } from '../src/encode';
import type { TidewireServer } from '../src/index';
import { startServer, TestClient } from './helpers';

/**
 * server.publish stringifies its data once: the text it measures and validates is the one every
 * subscriber's `message` frame carries (encode.ts `withPublishedText`), and that frame is exactly
 * what encoding the whole frame would give.
 */
describe('a server publish is encoded once', () => {
  let server: TidewireServer | undefined;
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    await server?.close();
    server = undefined;
  });

  it('splices the published text into the same frame encodeFrame writes', () => {
    let n = 0;
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), fc.string(), (data, channel, id) => {
        const text = JSON.stringify(data);
        // A fresh message object each time: encodeMessage remembers the last one it encoded.
        const message = { id, epoch: 'e', offset: ++n, data };
        const spliced = withPublishedText(data, text, () => encodeMessage(channel, message));
        expect(spliced).toBe(encodeFrame({ type: 'message', channel, epoch: 'e', offset: n, id, data }));
      }),
    );
  });

  it('outside a publish, or for other data, encodes the frame itself', () => {
    const data = { a: 1 };
    const other = { id: 'x', epoch: 'e', offset: 1, data: { b: 2 } };
    // The remembered text belongs to `data`; a message carrying other data must not get it.
    expect(withPublishedText(data, '{"a":1}', () => encodeMessage('ch', other))).toBe('{"type":"message","channel":"ch","epoch":"e","offset":1,"id":"x","data":{"b":2}}');
    const later = { id: 'y', epoch: 'e', offset: 2, data };
    expect(encodeMessage('ch', later)).toBe('{"type":"message","channel":"ch","epoch":"e","offset":2,"id":"y","data":{"a":1}}');
  });

  it('stringifies the data once however many subscribers get it, and each gets it intact', async () => {
    const started = await startServer();
    server = started.server;
    for (let i = 0; i < 3; i++) {
      const client = await TestClient.connect(started.url);
      clients.push(client);
      client.send({ type: 'subscribe', id: `s${i}`, channel: 'news' });
      await client.next('subscribed');
    }
    let stringified = 0;
    const data = {
      toJSON() {
        stringified++;
        return { headline: 'wörld "quoted" \u2028', n: [1, 2.5, null] };
      },
    };
    const receipt = await server.publish('news', data);
    for (const client of clients) {
      const frame = await client.next('message');
      expect(frame).toMatchObject({ channel: 'news', id: receipt.id, offset: receipt.offset, data: { headline: 'wörld "quoted" \u2028', n: [1, 2.5, null] } });
    }
    expect(stringified).toBe(1);
  });
});

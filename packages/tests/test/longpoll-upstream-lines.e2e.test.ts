import { describe, expect, it } from 'vitest';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { startServer, until } from './helpers/servers';

/** A fetch that records the body of every POST that carries frames (`?sid=`), then does the real request. */
function recordingFetch() {
  const bodies: string[] = [];
  const fetchImpl: typeof globalThis.fetch = (input, init) => {
    if (init?.method === 'POST' && String(input).includes('sid=') && typeof init.body === 'string') bodies.push(init.body);
    return globalThis.fetch(input, init);
  };
  return { fetch: fetchImpl, bodies };
}

const quiet = { logger: { warn: () => {}, error: () => {} } };

describe('upstream POST bodies on the wire (protocol §13.2)', () => {
  it('long polling sends a line feed then one frame per line to a server that reads them; every publish is stored once, in order', async () => {
    await using t = await startServer(quiet);
    const rec = recordingFetch();
    const publisher = t.client({ transports: [longpoll({ fetch: rec.fetch })] });
    const reader = t.client({ transports: [longpoll()] });
    const got: unknown[] = [];
    reader.channel('room').on('message', (m) => got.push(m.data));
    await until(() => reader.channel('room').getSnapshot().state === 'subscribed', 'the reader subscribed');
    const sent = Array.from({ length: 60 }, (_, i) => ({ i, text: i % 3 ? `line ${i}` : `two\nlines ${i}`, quote: '"' }));
    await Promise.all(sent.map((data) => publisher.publish('room', data)));
    await until(() => got.length === sent.length, 'every message at the reader');
    expect(got).toEqual(sent);
    expect(rec.bodies.length).toBeGreaterThan(0);
    for (const body of rec.bodies) {
      expect(body.startsWith('\n')).toBe(true);
      for (const line of body.slice(1).split('\n')) expect(JSON.parse(line)).toHaveProperty('type');
    }
  });

  it('SSE keeps the JSON array of frame texts', async () => {
    await using t = await startServer(quiet);
    const rec = recordingFetch();
    const publisher = t.client({ transports: [sse({ fetch: rec.fetch })] });
    const ack = await publisher.publish('room', { n: 1 });
    expect(ack.offset).toBe(1);
    expect(rec.bodies.length).toBeGreaterThan(0);
    for (const body of rec.bodies) expect((JSON.parse(body) as unknown[]).every((f) => typeof f === 'string')).toBe(true);
  });
});

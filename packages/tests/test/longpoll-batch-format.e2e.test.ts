import { describe, expect, it } from 'vitest';
import { startServer } from './helpers/servers';

const connect = JSON.stringify({ type: 'connect', v: 1 });
const subscribe = JSON.stringify({ type: 'subscribe', id: 's1', channel: 'room' });

/** Open a raw long-poll session (`query` on the opening POST), send connect + subscribe, and read the next poll answers. */
async function rawSession(base: string, query: string) {
  const opened = (await (await fetch(`${base}/poll${query}`, { method: 'POST' })).json()) as { sid: string; secret: string };
  const headers = { 'x-tidewire-secret': opened.secret };
  const up = await fetch(`${base}/poll?sid=${opened.sid}`, { method: 'POST', headers, body: JSON.stringify([connect, subscribe]) });
  expect(up.status).toBe(204);
  return {
    poll: async (ack: number) => {
      const res = await fetch(`${base}/poll?sid=${opened.sid}&ack=${ack}`, { headers });
      return { type: res.headers.get('content-type'), text: await res.text() };
    },
  };
}

describe('long-poll batches on the wire', () => {
  it('with ?batch=lines: `{"seq":n}` then each frame on its own line, exactly as encoded (no second encoding)', async () => {
    await using t = await startServer({ logger: { warn: () => {}, error: () => {} } });
    const base = t.url.replace(/^ws/, 'http');
    const s = await rawSession(base, '?batch=lines');
    let seen = '';
    let ack = 0;
    // connected, subscribed (possibly over two polls), then a published message with a line feed inside.
    while (!seen.includes('"subscribed"')) {
      const { type, text } = await s.poll(ack);
      expect(type).toMatch(/^application\/x-ndjson/);
      const [header, ...frames] = text.split('\n');
      ack = (JSON.parse(header!) as { seq: number }).seq;
      for (const f of frames.filter(Boolean)) expect(() => JSON.parse(f)).not.toThrow();
      seen += text;
    }
    await t.server.publish('room', { text: 'two\nlines', quote: '"' });
    const { text } = await s.poll(ack);
    const [header, frame, ...rest] = text.split('\n');
    expect(JSON.parse(header!)).toEqual({ seq: ack + 1 });
    expect(rest).toEqual([]);
    expect(JSON.parse(frame!)).toMatchObject({ type: 'message', channel: 'room', data: { text: 'two\nlines', quote: '"' } });
    // The frame's text is the one encoding: its quotes are not escaped a second time.
    expect(frame).toContain('"data":{"text":"two\\nlines","quote":"\\""}');
  });

  it('without it (an older client): the legacy `{ seq, frames: [frame texts] }` JSON', async () => {
    await using t = await startServer({ logger: { warn: () => {}, error: () => {} } });
    const base = t.url.replace(/^ws/, 'http');
    const s = await rawSession(base, '');
    const { type, text } = await s.poll(0);
    expect(type).toMatch(/^application\/json/);
    const batch = JSON.parse(text) as { seq: number; frames: string[] };
    expect(batch.seq).toBe(1);
    expect(batch.frames.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(batch.frames[0]!)).toMatchObject({ type: 'connected' });
  });
});

import { describe, expect, it } from 'vitest';
import type { TransportFactory } from '../src/transport';
import { SECRET_HEADER } from '../src/transports/http-line';
import { longpoll } from '../src/transports/longpoll';
import { sse } from '../src/transports/sse';
import { chunkedBody, fakeFetch, fullRecorder, until, type SeenRequest } from './http-line-fake';

const URL_ = 'https://rt.test/tidewire';
const SECRET = 'Sx7-only-in-a-header';

/** A server whose first answer carries `{ sid, secret }` (or no secret), for sse() and longpoll(). */
function sessionServer(kind: 'sse' | 'longpoll', open: object) {
  const stream = chunkedBody();
  const polls: (() => void)[] = [];
  const fake = fakeFetch((req: SeenRequest) => {
    if (req.method === 'POST' && kind === 'longpoll' && !req.url.includes('sid=')) return Response.json(open);
    if (req.method === 'POST' || req.method === 'DELETE') return new Response(null, { status: 204 });
    if (kind === 'sse') {
      stream.write(`event: open\ndata: ${JSON.stringify(open)}\n\n`);
      return new Response(stream.body, { headers: { 'content-type': 'text/event-stream' } });
    }
    // A held poll, answered with an empty batch when the test releases it.
    return new Promise<Response>((resolve) => polls.push(() => resolve(Response.json({ seq: 0, frames: [] }))));
  });
  return { ...fake, polls };
}

const kinds: [('sse' | 'longpoll'), () => TransportFactory][] = [
  ['sse', () => sse()],
  ['longpoll', () => longpoll()],
];

describe.each(kinds)('%s: the session secret', (kind, make) => {
  it('is sent as a header on every request after the open, and never appears in a URL', async () => {
    const { fetch, seen, polls } = sessionServer(kind, { sid: 's1', secret: SECRET });
    const { log, events } = fullRecorder();
    const transport = make().open({ url: URL_, token: 'tok', fetch }, events);
    await until(() => log.opened === 1, 'open');
    transport.send('{"type":"ping"}');
    await until(() => seen.filter((r) => r.method === 'POST' && r.url.includes('sid=')).length === 1, 'the upstream POST');
    if (kind === 'longpoll') {
      polls.shift()!();
      await until(() => seen.filter((r) => r.method === 'GET').length >= 2, 'a second poll');
    }
    transport.close();
    const [first, ...later] = seen;
    expect(first!.headers.get(SECRET_HEADER)).toBeNull(); // the open request cannot know it yet
    expect(later.length).toBeGreaterThanOrEqual(kind === 'sse' ? 1 : 3); // POST (+ polls and the DELETE)
    for (const request of later) {
      expect(request.headers.get(SECRET_HEADER)).toBe(SECRET);
      expect(request.headers.get('authorization')).toBe('Bearer tok');
      expect(new URL(request.url).searchParams.get('sid')).toBe('s1');
    }
    for (const request of seen) expect(decodeURIComponent(request.url)).not.toContain(SECRET);
  });

  it('is simply absent against a server that sends none', async () => {
    const { fetch, seen } = sessionServer(kind, { sid: 's1' });
    const { log, events } = fullRecorder();
    const transport = make().open({ url: URL_, fetch }, events);
    await until(() => log.opened === 1, 'open');
    transport.send('x');
    await until(() => seen.some((r) => r.method === 'POST' && r.url.includes('sid=')), 'the upstream POST');
    transport.close();
    for (const request of seen) expect(request.headers.has(SECRET_HEADER)).toBe(false);
  });

  it.each([[{ sid: 7 }], [{ sid: 's', secret: 42 }], [{}]])('refuses an open answer that is not a session (%j): reported and ended', async (open) => {
    const { fetch } = sessionServer(kind, open);
    const { log, events } = fullRecorder();
    make().open({ url: URL_, fetch }, events);
    await until(() => log.closes.length === 1, 'ended');
    expect(log.opened).toBe(0);
    expect(log.invalid).toHaveLength(1);
    expect(log.invalid[0]).toMatch(/carries no session/);
  });
});

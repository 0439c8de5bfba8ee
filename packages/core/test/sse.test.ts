import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sse } from '../src/transports/sse';
import { recorder } from './transport-recorder';

const URL_ = 'ws://rt.test/tidewire';
const SSE = 'http://rt.test/tidewire/sse';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

/** A stream the test writes to chunk by chunk, exactly as given (no re-framing). */
function sseStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const encoder = new TextEncoder();
  return {
    body,
    write: (text: string) => controller.enqueue(encoder.encode(text)),
    writeBytes: (bytes: Uint8Array) => controller.enqueue(bytes),
    end: () => controller.close(),
  };
}


const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !predicate(); i++) await tick(5); // ≥ 10 s: generous under load
  if (!predicate()) throw new Error(`timed out waiting for: ${what}`);
}

const headers = { 'content-type': 'text/event-stream' };

/** Serve one stream on GET and record POSTs; `post` decides each POST's answer. */
function serve(post: (body: string[], n: number) => Promise<Response> | Response = () => new HttpResponse(null, { status: 204 })) {
  const stream = sseStream();
  const gets: Request[] = [];
  const posts: { url: string; auth: string | null; body: string[] }[] = [];
  server.use(
    http.get(SSE, ({ request }) => {
      gets.push(request);
      return new HttpResponse(stream.body, { headers });
    }),
    http.post(SSE, async ({ request }) => {
      const body = (await request.json()) as string[];
      posts.push({ url: request.url, auth: request.headers.get('authorization'), body });
      return post(body, posts.length);
    }),
  );
  return { stream, gets, posts };
}

describe('sse transport: framing', () => {
  it('opens on the `open` event, then hands over each message event as one frame', async () => {
    const { stream, gets } = serve();
    const { log, events } = recorder();
    const t = sse().open({ url: URL_, token: 'tok' }, events);
    await until(() => gets.length === 1, 'GET');
    expect(gets[0]!.headers.get('accept')).toBe('text/event-stream');
    expect(gets[0]!.headers.get('authorization')).toBe('Bearer tok');
    expect(gets[0]!.url).toBe(SSE); // no token in the URL
    expect(log.opened).toBe(0);
    stream.write('event: open\ndata: {"sid":"s1"}\n\n');
    await until(() => log.opened === 1, 'open');
    stream.write('data: {"type":"ping"}\n\n');
    await until(() => log.frames.length === 1, 'frame');
    expect(log.frames).toEqual(['{"type":"ping"}']);
    t.close();
  });

  it('joins multi-line data with \\n, accepts CRLF and CR line endings, skips comments', async () => {
    const { stream } = serve();
    const { log, events } = recorder();
    const t = sse().open({ url: URL_ }, events);
    stream.write('event: open\r\ndata: {"sid":"s1"}\r\n\r\n');
    stream.write(': ping\n\n');
    stream.write('data: line one\ndata: line two\n\n');
    stream.write('data: crlf a\r\ndata: crlf b\r\n\r\n');
    // A trailing CR may be half of a CRLF: the parser rightly waits for the next byte.
    stream.write(': another comment\rdata: cr\r\rdata: after\n\n');
    await until(() => log.frames.length === 4, 'four frames');
    expect(log.opened).toBe(1);
    expect(log.frames).toEqual(['line one\nline two', 'crlf a\ncrlf b', 'cr', 'after']);
    t.close();
  });

  it('reassembles an event split across chunks (even inside a UTF-8 character) and splits several events in one chunk', async () => {
    const { stream } = serve();
    const { log, events } = recorder();
    const t = sse().open({ url: URL_ }, events);
    stream.write('event: op');
    stream.write('en\ndata: {"sid":"s1"}\n');
    stream.write('\nda');
    await tick();
    expect(log.opened).toBe(1);
    stream.write('ta: {"t":"é');
    stream.write('"}\n\ndata: 2\n\ndata: 3\n\nevent: custom\ndata: ignored\n\ndata: 4\n\n');
    await until(() => log.frames.length === 4, 'four frames');
    expect(log.frames).toEqual(['{"t":"é"}', '2', '3', '4']);
    t.close();
  });

  it('a chunk boundary inside a multi-byte character does not corrupt it', async () => {
    const { stream } = serve();
    const { log, events } = recorder();
    const t = sse().open({ url: URL_ }, events);
    stream.write('event: open\ndata: {"sid":"s1"}\n\n');
    const bytes = new TextEncoder().encode('data: 😀\n\n');
    stream.writeBytes(bytes.slice(0, 8)); // 'data: ' + half of the emoji
    stream.writeBytes(bytes.slice(8));
    await until(() => log.frames.length === 1, 'frame');
    expect(log.frames).toEqual(['😀']);
    t.close();
  });
});

describe('sse transport: upstream POSTs', () => {
  it('batches frames sent in the same tick into one POST, bound to the sid, with Authorization', async () => {
    const { stream, posts } = serve();
    const { log, events } = recorder();
    const t = sse().open({ url: URL_, token: 'tok' }, events);
    stream.write('event: open\ndata: {"sid":"abc"}\n\n');
    await until(() => log.opened === 1, 'open');
    t.send('{"n":1}');
    t.send('{"n":2}');
    t.send('{"n":3}');
    await until(() => posts.length === 1, 'one POST');
    await tick(20);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toEqual({ url: `${SSE}?sid=abc`, auth: 'Bearer tok', body: ['{"n":1}', '{"n":2}', '{"n":3}'] });
    t.close();
  });

  it('keeps one POST in flight and sends what queued meanwhile next, in order', async () => {
    const releases: (() => void)[] = [];
    const { stream, posts } = serve(() => new Promise((resolve) => releases.push(() => resolve(new HttpResponse(null, { status: 204 })))));
    const { log, events } = recorder();
    const t = sse().open({ url: URL_ }, events);
    stream.write('event: open\ndata: {"sid":"abc"}\n\n');
    await until(() => log.opened === 1, 'open');
    t.send('1');
    await until(() => posts.length === 1, 'first POST');
    t.send('2');
    await tick();
    t.send('3');
    await tick(30);
    expect(posts).toHaveLength(1); // the first is still in flight
    releases.shift()!();
    await until(() => posts.length === 2, 'second POST');
    t.send('4');
    await tick(30);
    expect(posts).toHaveLength(2);
    releases.shift()!();
    await until(() => posts.length === 3, 'third POST');
    releases.shift()!();
    expect(posts.map((p) => p.body)).toEqual([['1'], ['2', '3'], ['4']]);
    expect(log.closes).toEqual([]);
    t.close();
  });

  it('a failed POST (non-2xx) closes the transport once; a 413 says too_large', async () => {
    const { stream } = serve(() => new HttpResponse(null, { status: 413 }));
    const { log, events } = recorder();
    const t = sse().open({ url: URL_ }, events);
    stream.write('event: open\ndata: {"sid":"abc"}\n\n');
    await until(() => log.opened === 1, 'open');
    t.send('x');
    await until(() => log.closes.length === 1, 'closed');
    stream.write('data: late\n\n');
    await tick(30);
    expect(log.closes).toHaveLength(1);
    expect(log.closes[0]).toMatchObject({ code: 'too_large', message: expect.stringMatching(/sending failed/) });
    expect(log.frames).toEqual([]); // nothing after the close
  });

  it('a POST network error closes the transport', async () => {
    const { stream } = serve(() => HttpResponse.error());
    const { log, events } = recorder();
    const t = sse().open({ url: URL_ }, events);
    stream.write('event: open\ndata: {"sid":"abc"}\n\n');
    await until(() => log.opened === 1, 'open');
    t.send('x');
    await until(() => log.closes.length === 1, 'closed');
    expect(log.closes[0]!.code).toBeUndefined();
  });
});

describe('sse transport: ending', () => {
  it('a non-2xx answer to the GET closes (e.g. the transport is disabled)', async () => {
    server.use(http.get(SSE, () => HttpResponse.json({ error: { code: 'forbidden' } }, { status: 403 })));
    const { log, events } = recorder();
    sse().open({ url: URL_ }, events);
    await until(() => log.closes.length === 1, 'closed');
    expect(log.closes[0]!.message).toMatch(/stream failed/);
    expect(String((log.closes[0]!.cause as Error).message)).toMatch(/403/);
    expect(log.opened).toBe(0);
  });

  it('the stream ending closes once', async () => {
    const { stream } = serve();
    const { log, events } = recorder();
    sse().open({ url: URL_ }, events);
    stream.write('event: open\ndata: {"sid":"abc"}\n\n');
    stream.end();
    await until(() => log.closes.length === 1, 'closed');
    await tick(20);
    expect(log.closes).toHaveLength(1);
    expect(log.closes[0]!.message).toMatch(/ended/);
  });

  it('close() is quiet: no event afterwards, and the stream is released', async () => {
    const { stream } = serve();
    const { log, events } = recorder();
    const t = sse().open({ url: URL_ }, events);
    stream.write('event: open\ndata: {"sid":"abc"}\n\n');
    await until(() => log.opened === 1, 'open');
    t.close();
    stream.write('data: late\n\n');
    await tick(30);
    expect(log.frames).toEqual([]);
    expect(log.closes).toEqual([]);
  });

  it('explains how to provide fetch when there is none', () => {
    const original = globalThis.fetch;
    // @ts-expect-error simulate a runtime without fetch
    delete globalThis.fetch;
    try {
      expect(() => sse().open({ url: URL_ }, recorder().events)).toThrow(/No fetch implementation found.*createClient\(\{ url, fetch \}\)/);
    } finally {
      globalThis.fetch = original;
    }
  });

  it('uses an injected fetch before the global one', async () => {
    const calls: string[] = [];
    const fake: typeof fetch = async (input) => {
      calls.push(String(input));
      return new Response('event: open\ndata: {"sid":"z"}\n\n', { headers });
    };
    const { log, events } = recorder();
    sse({ fetch: fake }).open({ url: 'https://rt.test/x/', fetch: globalThis.fetch }, events);
    await until(() => log.opened === 1, 'open');
    expect(calls).toEqual(['https://rt.test/x/sse']);
  });
});

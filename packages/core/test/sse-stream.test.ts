import { describe, expect, it } from 'vitest';
import { createClient } from '../src/client';
import type { TidewireError } from '../src/errors';
import { sse } from '../src/transports/sse';
import { connected } from './fake-transport';
import { bodyInChunks, chunkedBody, fakeFetch, fullRecorder, randomChunkSizes, until } from './http-line-fake';

const URL_ = 'https://rt.test/tidewire';
const OPEN = 'event: open\ndata: {"sid":"s1"}\n\n';
const streamHeaders = { 'content-type': 'text/event-stream' };

/** Open an sse() transport on a stream made of `chunks`; resolve once the stream has ended. */
async function readStream(chunks: readonly string[]) {
  const encoder = new TextEncoder();
  const { fetch } = fakeFetch(
    () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
            controller.close();
          },
        }),
        { headers: streamHeaders },
      ),
  );
  const { log, events } = fullRecorder();
  sse({ fetch }).open({ url: URL_ }, events);
  await until(() => log.closes.length === 1, 'the stream ended');
  return log;
}

/** The frames a stream yields after the handshake (each test's chunks follow the `open` event). */
const framesOf = async (...chunks: string[]) => (await readStream([OPEN, ...chunks])).frames;

describe('sse transport on eventsource-parser: the event-stream format', () => {
  it('joins multi-line data with \\n and resets the event type after each event', async () => {
    expect(await framesOf('data: one\ndata: two\ndata: three\n\n', 'data: b\n\n')).toEqual(['one\ntwo\nthree', 'b']);
  });

  it('accepts LF, CRLF and CR line endings, mixed, and a CR split from its LF across chunks', async () => {
    expect(await framesOf('data: lf\n\n', 'data: crlf\r\n\r\n', 'data: cr\r\r', 'data: a\r\ndata: b\rdata: c\n\n')).toEqual(['lf', 'crlf', 'cr', 'a\nb\nc']);
    expect(await framesOf('data: a\r', '\ndata: b\r', '\n\r', '\n')).toEqual(['a\nb']);
    // A CR ending a chunk may be half of a CRLF: the parser rightly waits for the next byte.
    expect(await framesOf('data: a\r', 'data: b\r\r', 'data: c\n\n')).toEqual(['a\nb', 'c']);
  });

  it('reassembles lines split anywhere and splits several events in one chunk', async () => {
    expect(await framesOf('da', 'ta: {"sid"', ':"s1"}', '\n', '\n')).toEqual(['{"sid":"s1"}']);
    expect(await framesOf('data: x\n\nda', 'ta: y\n\ndata: z\n\n')).toEqual(['x', 'y', 'z']);
  });

  it('skips comments, strips exactly one space after the colon, keeps colons in the value', async () => {
    expect(await framesOf(': keep-alive\n\n', 'data: a\n: in the middle\ndata: b\n\n')).toEqual(['a\nb']);
    expect(await framesOf('data:tight\n\n', 'data:  two\n\n', 'data: {"a":"b:c"}\n\n')).toEqual(['tight', ' two', '{"a":"b:c"}']);
  });

  it('does not dispatch an event without data; ignores id, retry and unknown fields', async () => {
    expect(await framesOf('event: message\n\n', '\n\n', 'id: 7\nretry: 1000\nfoo: bar\ndata: a\n\n', 'id\nretry: x\n\n')).toEqual(['a']);
  });

  it('skips a leading byte order mark; drops an unfinished event when the stream ends', async () => {
    const log = await readStream(['\uFEFF' + OPEN, 'data: a\n\ndata: b\n']);
    expect(log.opened).toBe(1);
    expect(log.frames).toEqual(['a']);
  });

  it('opens on the open event and adopts its sid and secret', async () => {
    const log = await readStream(['event: open\ndata: {"sid":"s9","secret":"k"}\n\n', 'data: 1\n\n']);
    expect(log.opened).toBe(1);
    expect(log.frames).toEqual(['1']);
    expect(log.invalid).toEqual([]);
  });
});

describe('sse transport: nothing is discarded silently', () => {
  it('reports an event of an unknown type, and a second open event, and goes on', async () => {
    const log = await readStream([OPEN, 'event: custom\ndata: x\n\n', OPEN, 'event: constructor\ndata: y\n\n', 'data: after\n\n']);
    expect(log.invalid).toEqual(['unexpected SSE event "custom"', 'unexpected SSE event "open"', 'unexpected SSE event "constructor"']);
    expect(log.frames).toEqual(['after']);
  });

  it('reports an open event without a session and ends the line', async () => {
    const log = await readStream(['event: open\ndata: {"nope":1}\n\n', 'data: 1\n\n']);
    expect(log.invalid).toEqual(['the SSE open event carries no session']);
    expect(log.opened).toBe(0);
    expect(log.frames).toEqual([]);
    expect(log.closes).toHaveLength(1);
    expect(log.closes[0]!.message).toMatch(/did not open a session/);
  });
});

describe('sse transport: large frames', () => {
  it('delivers an 8 MiB event arriving in 1 B…64 KiB chunks exactly, and counts every chunk as activity', async () => {
    const payload = JSON.stringify({ type: 'message', data: 'é'.repeat(256) + 'x'.repeat(8 * 1024 * 1024) });
    const bytes = new TextEncoder().encode(`${OPEN}: comment\n\ndata: ${payload}\n\ndata: next\n\n`);
    const sizes = randomChunkSizes(4096, 7);
    let chunks = 0;
    for (let at = 0; at < bytes.length; chunks++) at += sizes[chunks % sizes.length]!;
    const { fetch } = fakeFetch(() => new Response(bodyInChunks(bytes, sizes), { headers: streamHeaders }));
    const { log, events } = fullRecorder();
    sse({ fetch }).open({ url: URL_ }, events);
    await until(() => log.closes.length === 1, 'the stream ended', 60_000);
    expect(log.frames).toHaveLength(2);
    expect(log.frames[0] === payload).toBe(true); // not toEqual: a diff of 8 MiB strings is unreadable
    expect(log.frames[1]).toBe('next');
    expect(log.activity).toBe(chunks);
    expect(log.invalid).toEqual([]);
  }, 90_000);
});

describe('sse transport through the client: an unknown event', () => {
  it('is an invalid_frame error on client.on("error"); the line stays connected', async () => {
    const stream = chunkedBody();
    const { fetch } = fakeFetch((req) => {
      if (req.method === 'POST') {
        // The client's connect arrived: the server answers on the stream.
        if (req.body?.includes('connect')) stream.write(`data: ${JSON.stringify(connected())}\n\n`);
        return new Response(null, { status: 204 });
      }
      stream.write(OPEN);
      return new Response(stream.body, { headers: streamHeaders });
    });
    const client = createClient({ url: URL_, transports: [sse({ fetch })] });
    const errors: TidewireError[] = [];
    client.on('error', (error) => void errors.push(error));
    client.connect();
    await until(() => client.getSnapshot().state === 'connected', 'connected');
    stream.write('event: surprise\ndata: {}\n\n');
    await until(() => errors.length === 1, 'the error');
    expect(errors[0]).toMatchObject({ name: 'ProtocolError', code: 'invalid_frame', message: expect.stringMatching(/unexpected SSE event "surprise"/) });
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
  });
});

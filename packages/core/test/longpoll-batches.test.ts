import { describe, expect, it } from 'vitest';
import { createClient } from '../src/client';
import type { TidewireError } from '../src/errors';
import { longpoll } from '../src/transports/longpoll';
import { connected } from './fake-transport';
import { bodyInChunks, fakeFetch, fullRecorder, randomChunkSizes, until, type SeenRequest } from './http-line-fake';

const URL_ = 'https://rt.test/tidewire';

/** A long-poll server answering the n-th poll with `answer(n)`; later polls are held forever. */
function pollServer(answers: ((ack: number) => Response)[]) {
  let polls = 0;
  const acks: number[] = [];
  const fake = fakeFetch((req: SeenRequest) => {
    if (req.method === 'POST') return req.url.includes('sid=') ? new Response(null, { status: 204 }) : Response.json({ sid: 'p1' });
    if (req.method === 'DELETE') return new Response(null, { status: 204 });
    const ack = Number(new URL(req.url).searchParams.get('ack'));
    acks.push(ack);
    const answer = answers[polls++];
    return answer ? answer(ack) : new Promise<Response>(() => {});
  });
  return { ...fake, acks };
}

describe('long polling: batches', () => {
  it('delivers an 8 MiB batch arriving in 1 B…64 KiB chunks exactly, and counts every chunk as activity', async () => {
    const big = JSON.stringify({ type: 'message', data: 'ü'.repeat(100) + 'x'.repeat(8 * 1024 * 1024) });
    const bytes = new TextEncoder().encode(JSON.stringify({ seq: 1, frames: [big, '{"type":"ping"}'] }));
    const sizes = randomChunkSizes(4096, 11);
    let chunks = 0;
    for (let at = 0; at < bytes.length; chunks++) at += sizes[chunks % sizes.length]!;
    const { fetch, acks } = pollServer([() => new Response(bodyInChunks(bytes, sizes))]);
    const { log, events } = fullRecorder();
    const transport = longpoll({ fetch }).open({ url: URL_ }, events);
    await until(() => log.frames.length === 2, 'both frames', 60_000);
    expect(log.frames[0] === big).toBe(true); // not toEqual: a diff of 8 MiB strings is unreadable
    expect(log.frames[1]).toBe('{"type":"ping"}');
    expect(log.activity).toBeGreaterThanOrEqual(chunks); // + the open answer's chunk
    expect(log.activityBytes).toBeGreaterThanOrEqual(bytes.length); // each with its size (connection.ts weighs them)
    await until(() => acks.length === 2, 'the next poll');
    expect(acks).toEqual([0, 1]);
    transport.close();
  }, 90_000);

  it.each([
    ['not JSON', 'HTTP/1.1 502 Bad Gateway'],
    ['a JSON value that is not a batch', '[1,2,3]'],
    ['frames that are not strings', '{"seq":1,"frames":[{"type":"ping"}]}'],
    ['a seq that is not a number', '{"seq":"1","frames":[]}'],
  ])('reports an answer that is %s, and polls again with the same ack', async (_, text) => {
    const good = () => Response.json({ seq: 1, frames: ['{"type":"ping"}'] });
    const { fetch, acks } = pollServer([() => new Response(text), good]);
    const { log, events } = fullRecorder();
    const transport = longpoll({ fetch }).open({ url: URL_ }, events);
    await until(() => log.frames.length === 1, 'the frame from the retried poll');
    expect(log.invalid).toHaveLength(1);
    expect(log.invalid[0]).toMatch(/not a batch/);
    expect(acks.slice(0, 2)).toEqual([0, 0]);
    expect(log.closes).toEqual([]);
    transport.close();
  });
});

describe('long polling through the client: an undecodable batch', () => {
  it('is an invalid_frame error on client.on("error"); the line stays connected and polls on', async () => {
    let polls = 0;
    let connectSeen = false;
    const { fetch } = fakeFetch((req) => {
      if (req.method === 'POST') {
        if (!req.url.includes('sid=')) return Response.json({ sid: 'p1' });
        connectSeen ||= req.body?.includes('connect') ?? false;
        return new Response(null, { status: 204 });
      }
      if (req.method !== 'GET') return new Response(null, { status: 204 });
      polls++;
      if (polls === 1) return Response.json({ seq: 1, frames: [JSON.stringify(connected())] });
      if (polls === 2) return new Response('<html>proxy error page</html>');
      return new Promise<Response>(() => {}); // held
    });
    const client = createClient({ url: URL_, transports: [longpoll({ fetch })] });
    const errors: TidewireError[] = [];
    client.on('error', (error) => void errors.push(error));
    client.connect();
    await until(() => errors.length === 1, 'the error');
    expect(connectSeen).toBe(true);
    expect(errors[0]).toMatchObject({ name: 'ProtocolError', code: 'invalid_frame', message: expect.stringMatching(/not a batch/) });
    await until(() => polls === 3, 'the poll after the bad one');
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
  });
});

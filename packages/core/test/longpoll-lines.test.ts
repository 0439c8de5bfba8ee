import { describe, expect, it } from 'vitest';
import { longpoll } from '../src/transports/longpoll';
import { fakeFetch, fullRecorder, until, type SeenRequest } from './http-line-fake';

const URL_ = 'https://rt.test/tidewire';

/** A long-poll server answering the n-th poll with `answers[n]` (text bodies); later polls are held. */
function pollServer(answers: string[]) {
  let polls = 0;
  const acks: number[] = [];
  const fake = fakeFetch((req: SeenRequest) => {
    if (req.method === 'POST') return req.url.includes('sid=') ? new Response(null, { status: 204 }) : Response.json({ sid: 'p1', secret: 's' });
    if (req.method === 'DELETE') return new Response(null, { status: 204 });
    acks.push(Number(new URL(req.url).searchParams.get('ack')));
    const answer = answers[polls++];
    return answer === undefined ? new Promise<Response>(() => {}) : new Response(answer);
  });
  return { ...fake, acks };
}

// Frames as the server encodes them: JSON text, so a line feed inside a value is escaped, and
// U+2028/U+2029 (legal raw in JSON) stay raw — neither may split a frame.
const frames = [
  JSON.stringify({ type: 'message', data: 'line one\nline two' }),
  JSON.stringify({ type: 'message', data: 'sep\u2028par\u2029end', n: [1, 2] }),
  '{"type":"ping"}',
];

describe('long polling: the one-encoding batch format (`?batch=lines`)', () => {
  it('asks for it when opening the session', async () => {
    const { fetch, seen } = pollServer([]);
    const { events } = fullRecorder();
    const transport = longpoll({ fetch }).open({ url: URL_ }, events);
    await until(() => seen.length >= 1, 'the open request');
    expect(seen[0]!.method).toBe('POST');
    expect(new URL(seen[0]!.url).searchParams.get('batch')).toBe('lines');
    transport.close();
  });

  it('hands each line to the connection as the frame text, unchanged, and acks by seq', async () => {
    const { fetch, acks } = pollServer([`{"seq":1}\n${frames.join('\n')}`, '{"seq":2}\n', `{"seq":3}\n${frames[2]}`]);
    const { log, events } = fullRecorder();
    const transport = longpoll({ fetch }).open({ url: URL_ }, events);
    await until(() => log.frames.length === 4 && acks.length === 4, 'all frames and the fourth poll');
    expect(log.frames).toEqual([...frames, frames[2]]);
    expect(acks).toEqual([0, 1, 2, 3]);
    expect(log.invalid).toEqual([]);
    transport.close();
  });

  it('still reads the legacy `{ seq, frames }` batch of a server that does not know the format', async () => {
    const { fetch, acks } = pollServer([JSON.stringify({ seq: 1, frames }), JSON.stringify({ seq: 2, frames: [] })]);
    const { log, events } = fullRecorder();
    const transport = longpoll({ fetch }).open({ url: URL_ }, events);
    await until(() => acks.length === 3, 'the third poll');
    expect(log.frames).toEqual(frames);
    expect(acks).toEqual([0, 1, 2]);
    transport.close();
  });

  it('does not apply a batch twice when the server sends it again (same seq)', async () => {
    const batch = `{"seq":1}\n${frames[0]}`;
    const { fetch, acks } = pollServer([batch, batch, `{"seq":2}\n${frames[2]}`]);
    const { log, events } = fullRecorder();
    const transport = longpoll({ fetch }).open({ url: URL_ }, events);
    await until(() => acks.length === 4, 'the fourth poll');
    expect(log.frames).toEqual([frames[0], frames[2]]);
    transport.close();
  });

  it('reports a header line that is not a batch, and polls again with the same ack', async () => {
    const { fetch, acks } = pollServer([`{"sequence":1}\n${frames[0]}`, `{"seq":1}\n${frames[2]}`]);
    const { log, events } = fullRecorder();
    const transport = longpoll({ fetch }).open({ url: URL_ }, events);
    await until(() => log.frames.length === 1, 'the retried poll');
    expect(log.invalid).toHaveLength(1);
    expect(log.frames).toEqual([frames[2]]);
    expect(acks.slice(0, 2)).toEqual([0, 0]);
    transport.close();
  });
});

describe('long polling: the next poll goes out before the batch is handled', () => {
  it('has acknowledged the batch with a new poll when its first frame reaches the connection', async () => {
    const { fetch, acks } = pollServer([`{"seq":1}\n${frames.join('\n')}`, `{"seq":2}\n${frames[2]}`]);
    const { log, events } = fullRecorder();
    const pollsWhenHandled: number[] = [];
    const onFrame = events.onFrame;
    events.onFrame = (frame) => {
      pollsWhenHandled.push(acks.length);
      onFrame(frame);
    };
    const transport = longpoll({ fetch }).open({ url: URL_ }, events);
    await until(() => log.frames.length === 4 && acks.length === 3, 'both batches and the third poll');
    // The poll acknowledging batch 1 was sent before any of its frames was handled; still once, in order.
    expect(pollsWhenHandled).toEqual([2, 2, 2, 3]);
    expect(acks).toEqual([0, 1, 2]);
    expect(log.frames).toEqual([...frames, frames[2]]);
    transport.close();
  });

  it('ends quietly when a frame of the batch closes the line while the next poll is out', async () => {
    const { fetch, acks } = pollServer([`{"seq":1}\n${frames.join('\n')}`]);
    const { log, events } = fullRecorder();
    const onFrame = events.onFrame;
    events.onFrame = (frame) => {
      onFrame(frame);
      transport.close(); // the held poll is aborted; no rejection may escape
    };
    const transport = longpoll({ fetch }).open({ url: URL_ }, events);
    await until(() => acks.length === 2, 'the second poll');
    await new Promise((r) => setTimeout(r, 20));
    expect(log.frames).toEqual([frames[0]]);
    expect(log.closes).toEqual([]);
  });
});

describe('long polling: upstream frames one per line where the server reads them (§13.2)', () => {
  /** A server whose open answer says `upstream` (or not); records every POST body after the open. */
  function server(upstream: string | undefined) {
    const bodies: string[] = [];
    const fake = fakeFetch((req: SeenRequest) => {
      if (req.method === 'POST' && !req.url.includes('sid=')) return Response.json({ sid: 'p1', secret: 's', ...(upstream && { upstream }) });
      if (req.method === 'POST') bodies.push(req.body!);
      return req.method === 'GET' ? new Promise<Response>(() => {}) : new Response(null, { status: 204 });
    });
    return { ...fake, bodies };
  }
  const sent = ['{"type":"connect","v":1}', '{"type":"publish","id":"p","channel":"c","data":"a\\nb"}'];

  it('sends a line feed, then the frame texts one per line, once the server said upstream "lines"', async () => {
    const { fetch, bodies } = server('lines');
    const { log, events } = fullRecorder();
    const transport = longpoll({ fetch }).open({ url: URL_ }, events);
    await until(() => log.opened === 1, 'the open');
    for (const frame of sent) transport.send(frame);
    await until(() => bodies.length === 1, 'the POST');
    expect(bodies[0]).toBe('\n' + sent.join('\n'));
    expect(bodies[0]!.slice(1).split('\n')).toEqual(sent); // an escaped line feed inside a frame does not split it
    // A text with a raw line feed (never an encoded frame) would split: that batch goes as the array.
    transport.send('not\na frame');
    await until(() => bodies.length === 2, 'the second POST');
    expect(JSON.parse(bodies[1]!)).toEqual(['not\na frame']);
    transport.close();
  });

  it('keeps the JSON array against a server that did not say so (older servers)', async () => {
    const { fetch, bodies } = server(undefined);
    const { log, events } = fullRecorder();
    const transport = longpoll({ fetch }).open({ url: URL_ }, events);
    await until(() => log.opened === 1, 'the open');
    for (const frame of sent) transport.send(frame);
    await until(() => bodies.length === 1, 'the POST');
    expect(JSON.parse(bodies[0]!)).toEqual(sent);
    transport.close();
  });
});

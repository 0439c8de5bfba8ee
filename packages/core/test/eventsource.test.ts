import { describe, expect, it } from 'vitest';
import { EventSource as PackageEventSource } from 'eventsource';
import type { EventSourceConstructor, EventSourceEventLike, EventSourceInitLike } from '../src/transports/eventsource';
import { eventsource } from '../src/transports/eventsource';
import { SECRET_HEADER } from '../src/transports/http-line';
import { chunkedBody, fakeFetch, fullRecorder, until } from './http-line-fake';

const URL_ = 'wss://rt.test/tidewire';
const SSE = 'https://rt.test/tidewire/sse';

/** An EventSource the test plays the server of. */
class FakeEventSource {
  static all: FakeEventSource[] = [];
  closed = false;
  readonly listeners = new Map<string, ((event: EventSourceEventLike) => void)[]>();
  constructor(
    readonly url: string,
    readonly init?: EventSourceInitLike,
  ) {
    FakeEventSource.all.push(this);
  }
  addEventListener(type: string, listener: (event: EventSourceEventLike) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
  }
  emit(type: string, event: EventSourceEventLike = {}): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}
const last = () => FakeEventSource.all.at(-1)!;

function start(options: { withCredentials?: boolean; token?: string } = {}) {
  FakeEventSource.all = [];
  const { fetch, seen } = fakeFetch(() => new Response(null, { status: 204 }));
  const { log, events } = fullRecorder();
  const transport = eventsource({ EventSource: FakeEventSource as EventSourceConstructor, fetch, withCredentials: options.withCredentials }).open(
    { url: URL_, token: options.token },
    events,
  );
  return { transport, log, seen, source: last() };
}

describe('eventsource transport', () => {
  it('opens <url>/sse with nothing secret in the URL, and opens the line on the server open event only', () => {
    const { log, source } = start({ token: 'tok-secret' });
    expect(source.url).toBe(SSE);
    expect(source.init?.withCredentials).toBe(false);
    source.emit('open', {}); // EventSource's own open: the response arrived, not the server's event
    expect(log.opened).toBe(0);
    source.emit('open', { data: '{"sid":"s1","secret":"k1"}' });
    expect(log.opened).toBe(1);
    source.emit('message', { data: '{"type":"ping"}' });
    expect(log.frames).toEqual(['{"type":"ping"}']);
    expect(log.activity).toBe(0); // events are frames (signs of life in the connection); bytes come from the fetch, when there is one
  });

  it('POSTs upstream with the sid and the secret header, without Authorization (the stream had none), and with cookies when asked', async () => {
    const { transport, source, seen } = start({ token: 'tok-secret', withCredentials: true });
    expect(source.init?.withCredentials).toBe(true);
    source.emit('open', { data: '{"sid":"s1","secret":"k1"}' });
    transport.send('{"type":"connect","v":1,"token":"tok-secret"}');
    await until(() => seen.length === 1, 'the POST');
    expect(seen[0]!.url).toBe(`${SSE}?sid=s1`);
    expect(seen[0]!.headers.get(SECRET_HEADER)).toBe('k1');
    expect(seen[0]!.headers.has('authorization')).toBe(false);
    expect(seen[0]!.body).toBe('["{\\"type\\":\\"connect\\",\\"v\\":1,\\"token\\":\\"tok-secret\\"}"]'); // the token travels in-band only
    transport.close();
  });

  it('closes the EventSource on its first error (no auto-reconnect) and reports the end once', () => {
    const { log, source } = start();
    source.emit('open', { data: '{"sid":"s1"}' });
    source.emit('error');
    source.emit('error');
    expect(source.closed).toBe(true);
    expect(log.closes).toHaveLength(1);
    expect(log.closes[0]!.message).toMatch(/eventsource: the stream failed or ended/);
    source.emit('message', { data: 'late' });
    expect(log.frames).toEqual([]);
  });

  it('close() closes the EventSource quietly', () => {
    const { transport, log, source } = start();
    transport.close();
    expect(source.closed).toBe(true);
    source.emit('error');
    expect(log.closes).toEqual([]);
  });

  it('reports an open event without a session and ends the line', () => {
    const { log, source } = start();
    source.emit('open', { data: 'garbage' });
    expect(log.invalid).toEqual(['the SSE open event carries no session']);
    expect(log.closes).toHaveLength(1);
    expect(source.closed).toBe(true);
  });

  it('says how to provide an EventSource when there is none', () => {
    const { events } = fullRecorder();
    expect(() => eventsource().open({ url: URL_ }, events)).toThrow(/No EventSource implementation found.*eventsource\(\{ EventSource \}\)/);
  });

  it('with the eventsource package, counts every chunk of the stream as activity, before the event is complete', async () => {
    const stream = chunkedBody();
    const { fetch } = fakeFetch(() => new Response(stream.body, { headers: { 'content-type': 'text/event-stream' } }));
    const { log, events } = fullRecorder();
    const transport = eventsource({ EventSource: PackageEventSource, fetch }).open({ url: URL_ }, events);
    stream.write('event: open\ndata: {"sid":"s1"}\n\n');
    await until(() => log.opened === 1, 'open');
    const before = log.activity;
    stream.write('data: {"type":"message","data":"');
    stream.write('x'.repeat(1000));
    await until(() => log.activity >= before + 2, 'activity from partial bytes');
    expect(log.frames).toEqual([]);
    stream.write('"}\n\n');
    await until(() => log.frames.length === 1, 'the frame');
    expect(log.frames[0]).toBe(`{"type":"message","data":"${'x'.repeat(1000)}"}`);
    transport.close();
  });
});

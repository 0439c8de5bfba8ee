import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServer } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Open an SSE stream with fetch and collect its raw text; `events()` splits it into events. */
async function openStream(base: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(`${base}/sse`, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  let text = '';
  let ended = false;
  const decoder = new TextDecoder();
  void (async () => {
    const reader = res.body!.getReader();
    try {
      for (let c; !(c = await reader.read()).done; ) text += decoder.decode(c.value, { stream: true });
    } catch {
      // aborted
    }
    ended = true;
  })();
  const stream = {
    res,
    get text() {
      return text;
    },
    get ended() {
      return ended;
    },
    /** Data of every `message` event so far, parsed. */
    frames: () =>
      text
        .split('\n\n')
        .filter((e) => e.startsWith('data: '))
        .map((e) => JSON.parse(e.split('\n').map((l) => l.slice(6)).join('\n')) as { type: string; code?: string }),
    async until(predicate: () => boolean, what: string) {
      for (let i = 0; i < 2000 && !predicate(); i++) await sleep(5); // ≥ 10 s: generous under load
      if (!predicate()) throw new Error(`timed out waiting for ${what}; stream so far: ${text}`);
    },
    close: () => abort.abort(),
  };
  await stream.until(() => text.includes('event: open'), 'the open event');
  const { sid, secret } = JSON.parse(/event: open\ndata: (.*)\n\n/.exec(text)![1]!) as { sid: string; secret: string };
  secrets.set(sid, secret);
  return Object.assign(stream, { sid, secret }); // not a spread: it would freeze the getters
}

/** Each session's secret from the server's first answer, by sid: later requests prove it in a header. */
const secrets = new Map<string, string>();

/** fetch for a session's URL (`?sid=`): sends the session's secret as the client does. */
const sidFetch = (url: string, init: RequestInit = {}) => {
  const sid = new URL(url).searchParams.get('sid') ?? '';
  const secret = secrets.get(sid);
  return fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...(secret && { 'x-tidewire-secret': secret }) } });
};

/** Open a long-poll session; remembers its secret. */
async function openPoll(base: string, headers: Record<string, string> = {}) {
  const opened = (await (await fetch(`${base}/poll`, { method: 'POST', headers })).json()) as { sid: string; secret: string };
  secrets.set(opened.sid, opened.secret);
  return opened;
}

const post = (url: string, frames: unknown, headers: Record<string, string> = {}) =>
  sidFetch(url, { method: 'POST', body: typeof frames === 'string' ? frames : JSON.stringify(frames), headers });

const connect = JSON.stringify({ type: 'connect', v: 1 });

async function start(options: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(options);
  return { ...s, base: s.url.replace(/^ws:/, 'http:'), [Symbol.asyncDispose]: () => s.server.close() };
}

describe('SSE endpoint', () => {
  it('answers with event-stream headers, an open event with an unguessable sid, and ping comments', async () => {
    await using t = await start({ transports: { sse: { keepAlive: 30 } } });
    const s = await openStream(t.base);
    expect(s.res.status).toBe(200);
    expect(s.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(s.res.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(s.res.headers.get('x-accel-buffering')).toBe('no');
    expect(s.res.headers.get('connection')).toBe('keep-alive');
    expect(s.res.headers.get('content-encoding')).toBeNull();
    expect(s.sid).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(s.secret).toMatch(/^[A-Za-z0-9_-]{24}$/);
    await s.until(() => s.text.split(': ping\n\n').length > 2, 'two ping comments');
    s.close();
  });

  it('runs a session: frames go up by POST (204) and come down as message events', async () => {
    await using t = await start();
    const s = await openStream(t.base);
    const up = await post(`${t.base}/sse?sid=${s.sid}`, [connect, JSON.stringify({ type: 'subscribe', id: 's1', channel: 'room' })]);
    expect(up.status).toBe(204);
    await s.until(() => s.frames().length === 2, 'connected + subscribed');
    expect(s.frames().map((f) => f.type)).toEqual(['connected', 'subscribed']);
    await t.server.publish('room', { multi: 'line\nvalue' });
    await s.until(() => s.frames().length === 3, 'message');
    expect(s.frames()[2]).toMatchObject({ type: 'message', channel: 'room', data: { multi: 'line\nvalue' } });
    expect(t.server.stats().sessions).toBe(1);
    s.close();
    await sleep(50);
    expect(t.server.stats().sessions).toBe(0); // the stream's end ends the session
  });

  it('a burst of frames (one synchronous publish loop) arrives complete and in order', async () => {
    await using t = await start();
    const s = await openStream(t.base);
    await post(`${t.base}/sse?sid=${s.sid}`, [connect, JSON.stringify({ type: 'subscribe', id: 's1', channel: 'room' })]);
    await s.until(() => s.frames().length === 2, 'connected + subscribed');
    await Promise.all([1, 2, 3, 4, 5].map((i) => t.server.publish('room', i)));
    await s.until(() => s.frames().length === 7, 'five messages');
    expect(s.frames().slice(2).map((f) => (f as { data?: unknown }).data)).toEqual([1, 2, 3, 4, 5]);
    s.close();
  });

  it('refuses a POST whose Authorization differs from the one that opened the stream', async () => {
    await using t = await start();
    const s = await openStream(t.base, { authorization: 'Bearer alice' });
    const url = `${t.base}/sse?sid=${s.sid}`;
    expect((await post(url, [connect])).status).toBe(403);
    expect((await post(url, [connect], { authorization: 'Bearer mallory' })).status).toBe(403);
    expect((await post(url, [connect], { authorization: 'Bearer alice' })).status).toBe(204);
    await s.until(() => s.frames().length === 1, 'connected');
    s.close();
  });

  it('answers 404 for an unknown sid, and for a sid of the other transport', async () => {
    await using t = await start();
    const s = await openStream(t.base);
    expect((await post(`${t.base}/sse?sid=nope`, [connect])).status).toBe(404);
    expect((await post(`${t.base}/poll?sid=${s.sid}`, [connect])).status).toBe(404);
    expect((await fetch(`${t.base}/poll?sid=nope&ack=0`)).status).toBe(404);
    s.close();
  });

  it('a body past the limit is refused with 413 and the session closes with too_large', async () => {
    await using t = await start({ limits: { maxPayload: 1024 } });
    const s = await openStream(t.base);
    const url = `${t.base}/sse?sid=${s.sid}`;
    expect((await post(url, [connect])).status).toBe(204);
    await s.until(() => s.frames().length === 1, 'connected');
    const huge = JSON.stringify(['x'.repeat(4 * 1024 + 64 * 1024 + 10)]);
    const status = await post(url, huge).then(
      (r) => r.status,
      () => 'reset',
    );
    expect([413, 'reset']).toContain(status);
    await s.until(() => s.ended, 'the stream ends');
    expect(s.frames().at(-1)).toMatchObject({ type: 'close', code: 'too_large' });
  });

  it('a body that is not a JSON array of frames closes the session with protocol_error', async () => {
    await using t = await start();
    const s = await openStream(t.base);
    expect((await post(`${t.base}/sse?sid=${s.sid}`, '{"type":"connect","v":1}')).status).toBe(400);
    await s.until(() => s.ended, 'the stream ends');
    expect(s.frames().at(-1)).toMatchObject({ type: 'close', code: 'protocol_error' });
  });

  it('checks the Origin like the WebSocket endpoint, and answers CORS for allowed origins', async () => {
    await using t = await start({ allowedOrigins: ['https://app.example'] });
    expect((await fetch(`${t.base}/sse`, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    const preflight = await fetch(`${t.base}/sse`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/x-tidewire-secret/);
  });
});

describe('long-poll endpoint', () => {
  it('opens with POST, holds a poll until frames are ready, and re-delivers a batch until it is acknowledged', async () => {
    await using t = await start({ transports: { longpoll: { timeout: 200 } } });
    const { sid } = await openPoll(t.base);
    const url = `${t.base}/poll?sid=${sid}`;
    const held = sidFetch(`${url}&ack=0`).then((r) => r.json());
    await sleep(30);
    expect((await post(url, [connect, JSON.stringify({ type: 'subscribe', id: 's1', channel: 'c' })])).status).toBe(204);
    const first = (await held) as { seq: number; frames: string[] };
    expect(first.seq).toBe(1);
    expect(first.frames.map((f) => (JSON.parse(f) as { type: string }).type)).toEqual(['connected', 'subscribed']);
    // The answer was "lost": polling again with the old ack gets the same batch.
    expect(await (await sidFetch(`${url}&ack=0`)).json()).toEqual(first);
    // Acknowledged: nothing new, so the poll is held until the timeout and answers empty.
    const started = Date.now();
    expect(await (await sidFetch(`${url}&ack=1`)).json()).toEqual({ seq: 1, frames: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await t.server.publish('c', 'hello');
    const next = (await (await sidFetch(`${url}&ack=1`)).json()) as { seq: number; frames: string[] };
    expect(next.seq).toBe(2);
    expect(JSON.parse(next.frames[0]!)).toMatchObject({ type: 'message', data: 'hello' });
  });

  it('a newer poll replaces a held one (answered empty)', async () => {
    await using t = await start({ transports: { longpoll: { timeout: 5000 } } });
    const { sid } = await openPoll(t.base);
    const url = `${t.base}/poll?sid=${sid}&ack=0`;
    const older = sidFetch(url).then((r) => r.json());
    await sleep(30);
    const newer = sidFetch(url).then((r) => r.json());
    expect(await older).toEqual({ seq: 0, frames: [] });
    await post(`${t.base}/poll?sid=${sid}`, [connect]);
    expect(((await newer) as { seq: number }).seq).toBe(1);
  });

  it('drops a session whose client stops polling for timeout + grace', async () => {
    await using t = await start({ transports: { longpoll: { timeout: 50, grace: 50 } } });
    const { sid } = await openPoll(t.base);
    await post(`${t.base}/poll?sid=${sid}`, [connect]);
    expect(t.server.stats().sessions).toBe(1);
    await sleep(200);
    expect(t.server.stats().sessions).toBe(0);
    expect((await sidFetch(`${t.base}/poll?sid=${sid}&ack=0`)).status).toBe(404);
  });

  it('DELETE ends the session at once; the Authorization must match', async () => {
    await using t = await start();
    const auth = { authorization: 'Bearer bob' };
    const { sid } = await openPoll(t.base, auth);
    expect((await sidFetch(`${t.base}/poll?sid=${sid}`, { method: 'DELETE' })).status).toBe(403);
    expect(t.server.stats().sessions).toBe(1);
    expect((await sidFetch(`${t.base}/poll?sid=${sid}`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect(t.server.stats().sessions).toBe(0);
  });

  it('delivers the close frame, then answers 410', async () => {
    await using t = await start({ connectTimeout: 50 });
    const { sid } = await openPoll(t.base);
    const url = `${t.base}/poll?sid=${sid}`;
    const batch = (await (await sidFetch(`${url}&ack=0`)).json()) as { seq: number; frames: string[] };
    expect(JSON.parse(batch.frames[0]!)).toMatchObject({ type: 'close', code: 'protocol_error' });
    expect((await sidFetch(`${url}&ack=${batch.seq}`)).status).toBe(410);
  });
});

describe('transport switches', () => {
  it('a disabled WebSocket refuses upgrades with 403; disabled HTTP transports answer 403', async () => {
    await using t = await start({ transports: { websocket: false, sse: false, longpoll: false } });
    const ws = new WebSocket(t.url);
    const status = await new Promise<number | undefined>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('open', () => resolve(undefined));
      ws.on('error', () => {});
    });
    expect(status).toBe(403);
    expect((await fetch(`${t.base}/sse`)).status).toBe(403);
    expect((await fetch(`${t.base}/poll`, { method: 'POST' })).status).toBe(403);
  });

  it('rejects bad transport options', async () => {
    await expect(start({ transports: { longpoll: { timeout: -1 } } })).rejects.toThrow(/invalid/i);
    // @ts-expect-error a misspelt option is an error
    await expect(start({ transports: { polling: true } })).rejects.toThrow(/invalid/i);
  });
});

describe('long-poll upstream bodies of one frame per line (protocol §13.2)', () => {
  /** Open with `?batch=lines`, as the reference client does; answers the open body. */
  async function openLines(base: string) {
    const opened = (await (await fetch(`${base}/poll?batch=lines`, { method: 'POST' })).json()) as { sid: string; secret: string; upstream?: string };
    secrets.set(opened.sid, opened.secret);
    return opened;
  }

  it('are announced to a client that asked for lines, and read one frame per line', async () => {
    await using t = await start();
    const opened = await openLines(t.base);
    expect(opened.upstream).toBe('lines');
    const url = `${t.base}/poll?sid=${opened.sid}`;
    const body = '\n' + [connect, JSON.stringify({ type: 'subscribe', id: 's1', channel: 'c' }), JSON.stringify({ type: 'publish', id: 'p1', channel: 'c', data: 'a\nb' })].join('\n');
    expect((await post(url, body)).status).toBe(204);
    // A JSON array is still read from such a client (what it sends before it saw the answer's field).
    expect((await post(url, [JSON.stringify({ type: 'publish', id: 'p2', channel: 'c', data: 2 })])).status).toBe(204);
    const lines = (await (await sidFetch(`${url}&ack=0`)).text()).split('\n').slice(1);
    const types = lines.map((l) => (JSON.parse(l) as { type: string; id?: string }).type);
    expect(types).toEqual(['connected', 'subscribed', 'message', 'ack', 'message', 'ack']);
    expect(lines.filter((l) => l.includes('"type":"message"')).map((l) => (JSON.parse(l) as { data: unknown }).data)).toEqual(['a\nb', 2]);
    // Without the leading line feed a body means what it always did: not an array, refused.
    expect((await post(url, JSON.stringify({ type: 'ping' }))).status).toBe(400);
  });

  it('read an empty line as one malformed frame, as the array reads an empty string', async () => {
    await using t = await start();
    const opened = await openLines(t.base);
    const url = `${t.base}/poll?sid=${opened.sid}`;
    expect((await post(url, `\n${connect}\n\n${JSON.stringify({ type: 'ping' })}`)).status).toBe(204);
    const lines = (await (await sidFetch(`${url}&ack=0`)).text()).split('\n').slice(1);
    const frames = lines.map((l) => JSON.parse(l) as { type: string; message?: string });
    // The refusal is answered at once; `connected` waits for authenticate (any order between the two).
    expect(frames.map((f) => (f.type === 'error' ? f.message : f.type)).sort()).toEqual(['connected', 'frame is not valid JSON', 'pong']);
  });

  it('are not announced to, nor read from, a client that did not ask (an older client keeps the array)', async () => {
    await using t = await start();
    const opened = (await openPoll(t.base)) as { sid: string; upstream?: string };
    expect(opened.upstream).toBeUndefined();
    const res = await post(`${t.base}/poll?sid=${opened.sid}`, `\n${connect}\n${connect}`);
    expect(res.status).toBe(400);
  });
});

import { describe, expect, it } from 'vitest';
import { startServer, until } from './helpers';

/**
 * An SSE / long-poll sid is in every request URL, and URLs land in logs. Knowing it must grant
 * nothing: every request after the first proves the session's secret in `x-tidewire-secret`.
 * Cookie apps have no Authorization header to bind to, so this is their only protection.
 */

type Auth = { name: string; headers: Record<string, string>; token?: string };
const AUTHS: Auth[] = [
  { name: 'cookie', headers: { cookie: 'session=alice' } },
  { name: 'bearer', headers: { authorization: 'Bearer alice' }, token: 'alice' },
  { name: 'anonymous', headers: {} },
];

/** What a test needs from an open HTTP session, whichever the transport. */
interface Opened {
  sid: string;
  secret: string;
  /** Frames the server sent to the session's owner so far (SSE: the stream; long poll: batches the owner fetched). */
  frames(): { type: string; id?: string }[];
  /** The owner reads (long poll: one poll; SSE: a short wait, the stream reads itself). */
  read(): Promise<void>;
  close(): void;
}

async function openSse(base: string, headers: Record<string, string>): Promise<Opened> {
  const abort = new AbortController();
  const res = await fetch(`${base}/sse`, { headers, signal: abort.signal });
  let text = '';
  void (async () => {
    const decoder = new TextDecoder();
    const reader = res.body!.getReader();
    try {
      for (let c; !(c = await reader.read()).done; ) text += decoder.decode(c.value, { stream: true });
    } catch {
      // aborted
    }
  })();
  await until(() => text.includes('event: open'));
  const { sid, secret } = JSON.parse(/event: open\ndata: (.*)\n\n/.exec(text)![1]!) as { sid: string; secret: string };
  return {
    sid,
    secret,
    frames: () =>
      text
        .split('\n\n')
        .filter((e) => e.startsWith('data: '))
        .map((e) => JSON.parse(e.slice(6)) as { type: string }),
    read: () => new Promise((r) => setTimeout(r, 50)),
    close: () => abort.abort(),
  };
}

async function openPoll(base: string, headers: Record<string, string>): Promise<Opened> {
  const { sid, secret } = (await (await fetch(`${base}/poll`, { method: 'POST', headers })).json()) as { sid: string; secret: string };
  const frames: { type: string }[] = [];
  let ack = 0;
  return {
    sid,
    secret,
    frames: () => frames,
    read: async () => {
      const res = await fetch(`${base}/poll?sid=${sid}&ack=${ack}`, { headers: { ...headers, 'x-tidewire-secret': secret } });
      const batch = (await res.json()) as { seq: number; frames: string[] };
      ack = batch.seq;
      frames.push(...batch.frames.map((f) => JSON.parse(f) as { type: string }));
    },
    close: () => {},
  };
}

const TRANSPORTS = [
  ['sse', openSse],
  ['poll', openPoll],
] as const;

describe.each(TRANSPORTS)('%s sessions are bound to their secret', (kind, open) => {
  it.each(AUTHS)('$name session: a request with the right sid but no or a wrong secret is refused 403 and learns nothing', async ({ headers, token }) => {
    const { server, url } = await startServer({
      transports: { longpoll: { timeout: 300 } },
      authenticate: ({ token: t, request }) => (t === 'alice' || request.headers.cookie === 'session=alice' || (!t && !request.headers.cookie) ? { user: 'alice' } : null),
    });
    const base = url.replace(/^ws:/, 'http:');
    const owner = await open(base, headers);
    expect(owner.secret).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(owner.secret).not.toBe(owner.sid);
    const endpoint = `${base}/${kind}?sid=${owner.sid}`;
    const frame = (f: object) => JSON.stringify([JSON.stringify(f)]);
    const asOwner = { ...headers, 'x-tidewire-secret': owner.secret };
    // The owner connects and subscribes.
    expect((await fetch(endpoint, { method: 'POST', headers: asOwner, body: frame({ type: 'connect', v: 1, ...(token && { token }) }) })).status).toBe(204);
    expect((await fetch(endpoint, { method: 'POST', headers: asOwner, body: frame({ type: 'subscribe', id: 'mine', channel: 'inbox' }) })).status).toBe(204);
    await server.publish('inbox', 'private');

    // Someone who learned the sid (and, for the bearer case, even the token): no secret, a wrong one, the sid itself.
    for (const secret of [undefined, 'wrong', owner.sid, `${owner.secret}x`]) {
      const attacker = { ...headers, ...(secret !== undefined && { 'x-tidewire-secret': secret }) };
      const posted = await fetch(endpoint, { method: 'POST', headers: attacker, body: frame({ type: 'subscribe', id: 'theirs', channel: 'inbox' }) });
      expect(posted.status).toBe(403);
      expect(await posted.json()).toEqual({ error: { code: 'forbidden', message: expect.stringMatching(/x-tidewire-secret/) } });
      if (kind === 'poll') {
        const polled = await fetch(`${endpoint}&ack=0`, { headers: attacker });
        expect(polled.status).toBe(403);
        expect(JSON.stringify(await polled.json())).not.toMatch(/private|subscribed|connected/);
      }
      expect((await fetch(endpoint, { method: 'DELETE', headers: attacker })).status).toBe(403);
    }
    expect(server.stats().sessions).toBe(1); // the DELETEs ended nothing

    // The owner still gets everything, and nothing the attacker sent was acted on.
    for (let i = 0; i < 200 && !owner.frames().some((f) => f.type === 'message'); i++) await owner.read();
    const types = owner.frames().map((f) => f.type);
    expect(types.slice(0, 3)).toEqual(['connected', 'subscribed', 'message']);
    expect(owner.frames().filter((f) => f.id === 'theirs')).toEqual([]);
    expect((await fetch(endpoint, { method: 'DELETE', headers: asOwner })).status).toBe(204);
    await until(() => server.stats().sessions === 0);
    owner.close();
    await server.close();
  });
});

describe('CORS', () => {
  it('a preflight allows the secret header', async () => {
    const { server, url } = await startServer({ allowedOrigins: ['https://app.example'] });
    const base = url.replace(/^ws:/, 'http:');
    for (const kind of ['sse', 'poll']) {
      const res = await fetch(`${base}/${kind}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-headers': 'x-tidewire-secret' },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-headers')).toMatch(/\bx-tidewire-secret\b/);
    }
    await server.close();
  });
});

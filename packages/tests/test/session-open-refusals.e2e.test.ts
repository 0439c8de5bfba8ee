import { describe, expect, it } from 'vitest';
import { startServer, until } from './helpers/servers';

/**
 * Whether an HTTP request opens a session is decided from its parsed `sid` parameter, and the
 * server's refusals of new sessions (limits.maxPendingSessions: 503 `rate_limited`; closing: 503
 * `going_away`) are made at that same decision. They were made on `url.includes('sid=')`: any
 * query merely containing "sid=" (`?xsid=1`, `?a=sid=`) opened sessions past both.
 */
const MAX_PENDING = 3;
const quiet = { warn: () => {}, error: () => {} };
/** Queries with no `sid` parameter that contain the text "sid=". */
const LOOKALIKES = ['?xsid=1', '?a=sid=', '?q=%26sid%3D1&sid_=2'];

/** A request that opens a session: `POST <path>/poll` or `GET <path>/sse` (its stream cancelled once answered). */
async function open(base: string, kind: 'poll' | 'sse', query = ''): Promise<{ status: number; code?: string }> {
  const response = await fetch(`${base}/${kind}${query}`, { method: kind === 'poll' ? 'POST' : 'GET' });
  if (response.status === 200) {
    await response.body?.cancel();
    return { status: 200 };
  }
  const body = (await response.json()) as { error: { code: string } };
  return { status: response.status, code: body.error.code };
}

describe.each(['poll', 'sse'] as const)('opening %s sessions', (kind) => {
  it('limits.maxPendingSessions holds whatever the query holds', async () => {
    await using t = await startServer({ connectTimeout: 10_000, limits: { maxPendingSessions: MAX_PENDING }, logger: quiet });
    const base = t.url.replace(/^ws/, 'http');
    // Held by long-poll opens (no socket stays open: an SSE stream ends its session when cancelled).
    for (let i = 0; i < MAX_PENDING; i++) expect(await open(base, 'poll')).toEqual({ status: 200 });
    await until(() => t.server.stats().sessions === MAX_PENDING, 'the idle sessions are pending');
    for (const query of ['', ...LOOKALIKES]) expect(await open(base, kind, query), query).toEqual({ status: 503, code: 'rate_limited' });
    expect(t.server.stats().sessions).toBe(MAX_PENDING);
  });

  it('a closing server opens none, whatever the query holds, while it still serves the session it is telling going_away', async () => {
    await using t = await startServer({ logger: quiet });
    const base = t.url.replace(/^ws/, 'http');
    // A long-poll session, connected and between two polls: close() waits for its next poll.
    const { sid, secret } = (await (await fetch(`${base}/poll`, { method: 'POST' })).json()) as { sid: string; secret: string };
    const headers = { 'x-tidewire-secret': secret, 'content-type': 'application/json' };
    const sent = await fetch(`${base}/poll?sid=${sid}`, { method: 'POST', headers, body: JSON.stringify([JSON.stringify({ type: 'connect', v: 1 })]) });
    expect(sent.status).toBe(204);
    const first = await fetch(`${base}/poll?sid=${sid}&ack=0`, { headers });
    expect(await first.text()).toContain('connected');
    const closed = t.server.close();
    for (const query of ['', ...LOOKALIKES]) expect(await open(base, kind, query), query).toEqual({ status: 503, code: 'going_away' });
    const last = await fetch(`${base}/poll?sid=${sid}&ack=1`, { headers });
    expect(await last.text()).toContain('going_away'); // the session being closed is still served
    await closed;
  });
});

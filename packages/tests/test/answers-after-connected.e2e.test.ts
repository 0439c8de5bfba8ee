import { describe, expect, it } from 'vitest';
import { allTransports, startQuietServer } from './helpers/transports';
import { openLine } from './helpers/raw-protocol-line';

/**
 * Protocol §3.4: a client MAY send requests right after `connect`, before `connected`; they are handled
 * after the connect succeeds, and `connected` is the first frame (session.ts keeps pongs behind it).
 * Refusals decided on arrival — too_large, bad_request, rate_limited — are sent at once instead, so they
 * reach the client before `connected`, where the reference client (core connection.ts) drops every frame
 * but `connected`/`close`: the request's answer is lost and the client waits for a timeout.
 */
const cases: [what: string, frame: string][] = [
  ['too_large', JSON.stringify({ type: 'publish', id: 'big', channel: 'room', data: 'x'.repeat(2000) })],
  ['bad_request', JSON.stringify({ type: 'subscribe', id: 'bad', channel: 5 })],
];

describe.each(allTransports)('answers to requests pipelined behind connect over %s', (name, transport) => {
  for (const [what, frame] of cases) {
    it(`connected comes first even when a pipelined request is refused ${what}`, async () => {
      await using t = await startQuietServer(transport, {
        limits: { maxPayload: 1024 },
        // A token check that takes a moment, as a real one (a JWKS fetch, a DB read) does.
        authenticate: async ({ token }) => (await new Promise((r) => setTimeout(r, 300)), { user: token }),
      });
      const line = await openLine(name, t.url, transport, { type: 'connect', v: 1, token: 'alice' }, [frame]);
      await line.next((f) => f.type === 'error', 'the refusal');
      line.close();
      expect(line.frames.map((f) => f.type).slice(0, 2)).toEqual(['connected', 'error']);
    });
  }
});

describe.each(allTransports)('a rate_limited refusal held behind connect over %s', (name, transport) => {
  it('names the wait left when it is sent, not the one at arrival', async () => {
    const authenticating = 1500;
    await using t = await startQuietServer(transport, {
      limits: { rate: { perSecond: 1, burst: 2 } },
      authenticate: async ({ token }) => (await new Promise((r) => setTimeout(r, authenticating)), { user: token }),
    });
    const requests = ['a', 'b', 'c', 'd'].map((id) => JSON.stringify({ type: 'subscribe', id, channel: `room-${id}` }));
    const line = await openLine(name, t.url, transport, { type: 'connect', v: 1, token: 'alice' }, requests);
    const refusal = await line.next((f) => f.type === 'error', 'the refusal');
    line.close();
    expect(refusal).toMatchObject({ code: 'rate_limited' });
    // At arrival the bucket (1 a second) refills in up to 1,000 ms; the refusal waited ~1,500 ms behind
    // the connect, so what is left of the wait is far less (it was sent as ~1,000 ms, stale).
    expect((refusal as unknown as { retryAfter: number }).retryAfter).toBeLessThan(500);
  });
});

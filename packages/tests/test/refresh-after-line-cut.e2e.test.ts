import { describe, expect, it } from 'vitest';
import { startQuietServer, allTransports } from './helpers/transports';
import { until } from './helpers/servers';

/**
 * A refresh belongs to the line it was asked for. When the app's `getToken({ reason: 'refresh' })`
 * answers only after that line was cut and a new one connected, the token it answers must not be
 * sent as a `refresh` on the new line (whose own session has its own expiry and refresh timer):
 * that refreshed a session that never asked, and put the new line's refresh timer on the stale
 * refresh's answer deadline.
 */
describe.each(allTransports)('over %s: a refresh getToken that answers after its line was cut', (_name, transport) => {
  it('is not sent as a refresh on the new line', async () => {
    const authenticated: [token: string, reason: string][] = [];
    // The first session's token lives 5 s (refreshed at 4 s, getToken given 1 s); later ones 60 s.
    await using t = await startQuietServer(transport, {
      authenticate: ({ token, reason }) => {
        authenticated.push([token ?? '', reason]);
        return token ? { user: 'u', expiresAt: Date.now() + (authenticated.length === 1 ? 5000 : 60_000) } : null;
      },
    });
    let answerRefresh: ((token: string) => void) | undefined;
    const asked: string[] = [];
    const client = t.client({
      getToken: ({ reason }) => {
        asked.push(reason);
        return reason === 'refresh' ? new Promise<string>((resolve) => (answerRefresh = resolve)) : 'first';
      },
    });
    const errors: unknown[] = [];
    client.on('error', (e) => void errors.push(e));
    await client.channel('room').publish('hello');
    await until(() => answerRefresh !== undefined, 'the refresh asks getToken', 10_000);
    // The line the refresh was for is cut; the client reconnects with its cached token.
    client.disconnectTransport('cut while the refresh getToken is pending');
    await until(() => authenticated.length === 2 && client.getSnapshot().state === 'connected', 'the new line is up');
    answerRefresh!('late-refresh');
    // Give a stale refresh every chance to reach the server (and be answered).
    await client.channel('room').publish('barrier');
    await new Promise((r) => setTimeout(r, 300));
    expect(authenticated).toEqual([
      ['first', 'connect'],
      ['first', 'connect'],
    ]);
    expect(client.getSnapshot().state).toBe('connected');
    // Nothing reported but, on a loaded machine where the new line took longer than the 1 s the
    // refresh getToken was given, that getToken's `timeout` (it did hang: the app is told).
    expect(errors).toEqual(errors.length ? [expect.objectContaining({ code: 'timeout' })] : []);
    expect(asked).toEqual(['connect', 'refresh']);
  }, 30_000);
});

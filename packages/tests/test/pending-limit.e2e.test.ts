import { describe, expect, it } from 'vitest';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * limits.maxPendingSessions: connections that have not finished their handshake are bounded
 * server-wide. A long-poll open needs no socket kept open, so without a bound one client could
 * hold thousands of sessions (and their memory) until `connectTimeout`. Beyond the bound, new
 * connections are refused 503 `rate_limited` with `retryAfter` on every transport; a real client
 * retries and gets in once the pending ones are gone.
 */
const MAX_PENDING = 5;

async function start(transport: (typeof allTransports)[number][1]) {
  const warnings: string[] = [];
  const t = await startServer(
    { connectTimeout: 3000, limits: { maxPendingSessions: MAX_PENDING }, logger: { warn: (m) => void warnings.push(m), error: () => {} } },
    { transports: [transport()], backoff: () => 50 },
  );
  const http = t.url.replace(/^ws/, 'http');
  /** Open a long-poll session and never send its connect frame (no socket stays open). */
  const openIdle = () => fetch(`${http}/poll`, { method: 'POST' });
  return { t, warnings, openIdle };
}

describe.each(allTransports)('limits.maxPendingSessions with %s clients', (_name, transport) => {
  it('refuses connections beyond the bound with 503 rate_limited and retryAfter, logs once, and lets a client in once they are gone', async () => {
    const { t, warnings, openIdle } = await start(transport);
    await using _ = t;
    const opened = await Promise.all(Array.from({ length: MAX_PENDING }, openIdle));
    expect(opened.map((r) => r.status)).toEqual(Array(MAX_PENDING).fill(200));

    const refused = await openIdle();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({
      error: { code: 'rate_limited', message: `too many connections waiting for their handshake (limits.maxPendingSessions = ${MAX_PENDING})`, retryAfter: 1000 },
    });

    // A real client is refused too (its transport's open or upgrade) until the idle ones time out, then gets in.
    const client = t.client();
    const channel = client.channel('room');
    await until(() => channel.getSnapshot().state === 'subscribed', 'the client gets in after the idle sessions time out', 20_000);
    expect(t.server.metrics().refused.rate_limited).toBeGreaterThanOrEqual(2);
    expect(warnings.filter((w) => w.includes('maxPendingSessions'))).toHaveLength(1);
  });

  it('counts a session out once it is connected: the bound is on handshakes, not on connections', async () => {
    const { t } = await start(transport);
    await using _ = t;
    const clients = Array.from({ length: 3 * MAX_PENDING }, () => t.client());
    for (const c of clients) {
      c.connect();
      await until(() => c.getSnapshot().state === 'connected', 'each connects in turn');
    }
    expect(t.server.stats().sessions).toBe(3 * MAX_PENDING);
    expect(t.server.metrics().refused.rate_limited ?? 0).toBe(0);
  });
});

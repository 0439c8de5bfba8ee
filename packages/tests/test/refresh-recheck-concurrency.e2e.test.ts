import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type TidewireServer } from '@tidewire/server';
import { websocket } from '@tidewire/core/websocket';
import { openLine } from './helpers/raw-protocol-line';
import { until } from './helpers/servers';

/**
 * docs/server.md: after a refresh at most 16 re-check `authorize` calls run at a time per session.
 * The bound was per refresh (each refresh frame started 16 more workers), and every refresh queued a
 * check of everything held. One re-check runs per session (accessRecheck.ts): refreshes share its 16
 * workers, and a refresh supersedes what the previous pass had not reached yet.
 */
let server: TidewireServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("a session's re-checks after refresh stay within 16 authorize calls at a time", () => {
  it('ten refreshes in a row do not run more than 16 authorize calls at once', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    let counting = false;
    server = createServer({
      authenticate: ({ token }) => ({ user: token ?? 'anon' }),
      authorize: async () => {
        if (!counting) return true;
        inFlight++;
        calls++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 300)); // a store lookup
        inFlight--;
        return true;
      },
      logger: { warn: () => {}, error: () => {} },
    });
    const { url } = await server.listen(0);
    const line = await openLine('websocket', url, websocket, { type: 'connect', v: 1, token: 'alice' });
    for (let i = 0; i < 60; i++) line.send({ type: 'subscribe', id: `s${i}`, channel: `room:${i}` });
    await until(() => line.frames.filter((f) => f.type === 'subscribed').length === 60, 'subscribed to 60 channels');
    counting = true;
    for (let i = 0; i < 10; i++) line.send({ type: 'refresh', id: `r${i}`, token: 'alice' });
    await until(() => line.frames.filter((f) => f.type === 'refreshed').length === 10, 'ten refreshed');
    await until(() => inFlight === 0 && maxInFlight > 0, 're-checks done', 15_000);
    line.close();
    expect(maxInFlight).toBeLessThanOrEqual(16);
    // 60 held, checked again from the start by each refresh: at most the 16 in flight per superseded pass, not 10 × 60.
    expect(calls).toBeGreaterThanOrEqual(60);
    expect(calls).toBeLessThanOrEqual(60 + 16 * 10);
  });
});

import { describe, expect, it } from 'vitest';
import type { TidewireError } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { until } from './helpers/servers';
import { startQuietServer } from './helpers/transports';

/**
 * A closing server tells every client `going_away` with its retry hint (protocol §6.3) — also a
 * long-poll client that is between two polls when `close()` starts: its close frame waits for its
 * next poll, so the server keeps serving that session (and only it) until the poll took it, bounded.
 * Before, routes and listeners went at once and such a client only saw its next poll refused.
 */
describe('server close() reaches a long-poll client between two polls', () => {
  it('the client is told going_away with a retry hint, not a refused request', async () => {
    let delayNext = false;
    // Holds the client's next GET back a little, so close() starts while it has none outstanding.
    const slowFetch: typeof fetch = async (input, init) => {
      if (delayNext && (init?.method ?? 'GET') === 'GET' && String(input).includes('sid=')) {
        delayNext = false;
        await new Promise((r) => setTimeout(r, 300));
      }
      return fetch(input, init);
    };
    const t = await startQuietServer(() => longpoll({ fetch: slowFetch }));
    const client = t.client({ backoff: () => 60_000 });
    const channel = client.channel('news');
    const got: unknown[] = [];
    channel.on('message', (m) => void got.push(m.data));
    await until(() => channel.getSnapshot().state === 'subscribed', 'subscribed');
    const reasons: string[] = [];
    client.on('state', ({ to }) => {
      if (to.state === 'reconnecting') reasons.push((to.error as TidewireError).code);
    });
    delayNext = true;
    await t.server.publish('news', 1); // answers the held poll; the next poll waits
    await until(() => got.length === 1, 'the message arrived');
    const closed = t.server.close();
    await until(() => reasons.length > 0, 'the client left connected', 30_000);
    expect(reasons[0]).toBe('going_away');
    client.close();
    await closed;
  });
});

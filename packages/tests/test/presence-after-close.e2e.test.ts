import { describe, expect, it } from 'vitest';
import { isTidewireError } from '@tidewire/core';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * docs/client.md (Presence) and ChannelPresence.enter's JSDoc: enter() "@throws (rejects) … `closed`".
 * history() on the same closed client rejects `closed` at once (it checks `requests.ended_`); presence
 * does not: an enter() made after close() (or after the client `failed`) waits for a line that never
 * comes — the promise never settles — and a watcher's snapshot says `syncing` forever instead of
 * `failed` with the reason.
 */
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then((value) => ({ settled: 'resolved' as const, value }), (error: unknown) => ({ settled: 'rejected' as const, error })), new Promise<{ settled: 'pending' }>((r) => setTimeout(() => r({ settled: 'pending' }), ms))]);

describe.each(allTransports)('presence on a closed client over %s', (_name, transport) => {
  it('enter() after close() rejects closed (like history() does), and a new watcher fails instead of syncing forever', async () => {
    await using t = await startServer({ logger: { warn() {}, error() {} }, authenticate: ({ token }) => ({ user: token ?? 'anon' }) }, { transports: [transport()] });
    const client = t.client({ token: 'alice' });
    const room = client.channel('room');
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    client.close();

    // The reference: history() on the closed client settles at once with `closed`.
    await expect(room.history()).rejects.toMatchObject({ code: 'closed' });

    const entered = await within(room.presence.enter({ name: 'Alice' }), 2000);
    expect(entered.settled).toBe('rejected');
    expect(entered.settled === 'rejected' && isTidewireError(entered.error) && entered.error.code).toBe('closed');

    room.presence.subscribe(() => {});
    await new Promise((r) => setTimeout(r, 200));
    expect(room.presence.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'closed' } });
  });
});

import { describe, expect, it } from 'vitest';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * docs/client.md (Presence): `enter(info?)` resolves once the server confirmed. An `enter` the app
 * gives up (`leave()`, or releasing the handle) before the server confirmed it did not happen: it
 * rejects `aborted`, as a publish cancelled before its ack does — whether it was never sent (the
 * client offline) or is still being authorized on the server.
 */
describe.each(allTransports)('an enter left before the server confirmed it, over %s', (_name, transport) => {
  it('made offline and left before the line is back: rejects aborted', async () => {
    await using t = await startServer({ logger: { warn() {}, error() {} }, authenticate: ({ token }) => ({ user: token ?? 'anon' }) }, { transports: [transport()] });
    const client = t.client({ token: 'alice', backoff: () => 60_000 });
    const room = client.channel('room');
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    client.disconnectTransport();
    await until(() => client.getSnapshot().state === 'reconnecting', 'offline');

    const entered = room.presence.enter({ name: 'Alice' });
    room.presence.leave(); // given up while still offline: nothing was sent, nothing confirmed
    await expect(entered).rejects.toMatchObject({ code: 'aborted' });
  });

  it('sent, then the handle released while `authorize` still decides: rejects aborted, and no member stays', async () => {
    let release!: () => void;
    const deciding = new Promise<void>((r) => (release = r));
    await using t = await startServer(
      {
        logger: { warn() {}, error() {} },
        authenticate: ({ token }) => ({ user: token ?? 'anon' }),
        authorize: async ({ action }) => (action === 'enter' ? (await deciding, true) : true),
      },
      { transports: [transport()] },
    );
    const client = t.client({ token: 'alice' });
    const room = client.channel('room');
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    const entered = room.presence.enter({ name: 'Alice' });
    const outcome = entered.then(() => 'resolved', (e: { code: string }) => e.code);
    await new Promise((r) => setTimeout(r, 100)); // the enter is on the server, waiting for authorize
    room.unsubscribe();
    release();
    expect(await outcome).toBe('aborted');

    const watcher = t.client({ token: 'bob' }).channel('room');
    watcher.presence.subscribe(() => {});
    await until(() => watcher.presence.getSnapshot().state === 'synced', 'synced');
    await new Promise((r) => setTimeout(r, 200));
    expect(watcher.presence.getSnapshot().members.map((m) => m.user)).toEqual([]);
  });
});

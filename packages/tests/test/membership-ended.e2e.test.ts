import { describe, expect, it } from 'vitest';
import type { Client, TidewireError, TransportFactory } from '@tidewire/core';
import type { createServer } from '@tidewire/server';
import { startServer, until } from './helpers/servers';
import { withTestBroker } from './helpers/test-broker';
import { allTransports } from './helpers/transports';

/**
 * A membership the server refused or ended is forgotten by the client (protocol §14, `left`;
 * docs/client.md "A refused or ended membership is forgotten"): it does not enter again on its own
 * after a reconnect — not even once the user may enter again — so an app told "you are not a member"
 * never finds itself one without asking. Each test proves it the same way: the client reconnects as a
 * user who MAY enter, makes a round trip (the server handles a connection's requests in order, and a
 * re-entry would be sent first), and a fresh watcher's snapshot shows it is not a member.
 */
type ServerOptions = NonNullable<Parameters<typeof createServer>[0]>;

const quiet = { warn: () => {}, error: () => {} };
/** `admins*` channels are for `admin`, and for everyone while `open.now` (the server's rules changed). */
const rules = () => {
  const open = { now: false };
  const authorize: ServerOptions['authorize'] = ({ user, channel }) => !channel.startsWith('admins') || user === 'admin' || open.now;
  return { open, authorize };
};
const sessionOf = (client: Client) => (client.getSnapshot() as { session?: string }).session;

/** Reconnect `client` (a new session), then make a round trip on it. */
async function reconnect(client: Client): Promise<void> {
  const before = sessionOf(client);
  client.disconnectTransport('test: reconnect');
  await until(() => client.getSnapshot().state === 'connected' && sessionOf(client) !== before, 'reconnected');
  await client.channel('lobby').publish('round trip');
}

/** The members of `channel` as a new watcher sees them now. */
async function membersNow(t: { client(options: { token: string }): Client }, channel: string): Promise<(string | undefined)[]> {
  const watcher = t.client({ token: 'admin' });
  const presence = watcher.channel(channel).presence;
  presence.subscribe(() => {}); // watching starts with the first listener
  await until(() => presence.getSnapshot().state === 'synced', 'a fresh watcher is synced');
  const ids = presence.getSnapshot().members.map((m) => m.clientId);
  watcher.close();
  return ids;
}

describe.each(allTransports)('a refused or ended membership over %s', (_name, transport: () => TransportFactory) => {
  it('a membership a refresh ends is told on client.on("error") and not entered again after a reconnect', async () => {
    // A token that lives 1.5 s: the client refreshes it (at 80 %) as whoever `user` names then.
    const { open, authorize } = rules();
    await using t = await startServer(
      withTestBroker({ authenticate: ({ token }) => (token ? { user: token, expiresAt: Date.now() + 1500 } : null), authorize, logger: quiet }),
      { transports: [transport()] },
    );
    let user = 'admin';
    const client = t.client({ getToken: () => user });
    const errors: TidewireError[] = [];
    client.on('error', (e) => void errors.push(e));
    const admins = client.channel('admins:chat');
    await admins.presence.enter({ name: 'me' });
    const watcher = t.client({ token: 'admin' }).channel('admins:chat').presence;
    watcher.subscribe(() => {});
    await until(() => watcher.getSnapshot().members.some((m) => m.clientId === sessionOf(client)), 'the watcher sees the member');

    user = 'demoted';
    await until(() => errors.some((e) => e.code === 'forbidden'), 'the end of the membership is reported', 10_000);
    expect(errors.filter((e) => e.code === 'forbidden').map((e) => [e.message, e.context.channel])).toEqual([
      ['enter to "admins:chat" is no longer allowed after the token refresh', 'admins:chat'],
    ]);
    await until(() => watcher.getSnapshot().members.length === 0, 'the watcher sees it leave');

    open.now = true; // allowed again: a client that still counted itself a member would re-enter now
    await reconnect(client);
    expect(await membersNow(t, 'admins:chat')).toEqual([]);
    expect(errors.filter((e) => e.code === 'forbidden')).toHaveLength(1);

    await admins.presence.enter({ name: 'me again' }); // asking anew works
    expect(await membersNow(t, 'admins:chat')).toEqual([sessionOf(client)]);
  });

  it('an enter refused forbidden rejects, and the client does not enter on its own once allowed', async () => {
    const { open, authorize } = rules();
    await using t = await startServer(withTestBroker({ authenticate: ({ token }) => (token ? { user: token } : null), authorize, logger: quiet }), {
      transports: [transport()],
    });
    const client = t.client({ token: 'guest' });
    const admins = client.channel('admins:chat');
    await expect(admins.presence.enter({ name: 'me' })).rejects.toMatchObject({ code: 'forbidden' });

    open.now = true;
    await reconnect(client);
    expect(await membersNow(t, 'admins:chat')).toEqual([]);

    await admins.presence.enter({ name: 'me' });
    expect(await membersNow(t, 'admins:chat')).toEqual([sessionOf(client)]);
  });

  it.each([
    ['refused by the client (data with no JSON form: bad_request)', {}, () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      return [cyclic, 'bad_request'] as const;
    }],
    ['refused by the server as a frame (too_large)', { limits: { maxPayload: 4096 } }, () => [{ name: 'x'.repeat(5000) }, 'too_large'] as const],
  ])('an info update %s keeps the membership, and leave() still ends it', async (_what, options, make) => {
    await using t = await startServer(withTestBroker({ logger: quiet, ...options }), { transports: [transport()] });
    const client = t.client({ token: 'admin' });
    client.on('error', () => {});
    const room = client.channel('room');
    await room.presence.enter({ name: 'a' });
    expect(await membersNow(t, 'room')).toEqual([sessionOf(client)]);
    const [info, code] = make();
    await expect(room.presence.enter(info)).rejects.toMatchObject({ code });
    expect(await membersNow(t, 'room')).toEqual([sessionOf(client)]);
    room.presence.leave();
    await client.channel('lobby').publish('round trip'); // the server handles the leave before this
    expect(await membersNow(t, 'room')).toEqual([]);
  });
});

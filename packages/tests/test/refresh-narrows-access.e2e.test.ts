import { describe, expect, it } from 'vitest';
import { createServer } from '@tidewire/server';
import { rawWsLine } from './helpers/raw-ws-line';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * A refresh whose new user has fewer rights narrows what the session receives at once: the
 * server authorizes again everything the session holds (docs/server.md, "After `refresh`"). A
 * subscription no longer allowed ends with `unsubscribed {code: 'forbidden'}` (the client's channel
 * fails with it); a presence watch no longer allowed ends with `presence_unsubscribed`, a membership
 * with `left` (watchers see the member leave). What is still allowed goes on.
 */
const authenticate = ({ token }: { token?: string }) => (token ? { user: token.replace(/-\d+$/, ''), expiresAt: Date.now() + 60_000 } : null);
const authorize = ({ user, channel }: { user: unknown; channel: string }) => !channel.startsWith('admins') || user === 'admin';

describe('a refresh that narrows the user rights', () => {
  it('ends, and says so, exactly what the new user may not hold (protocol level, a client offering presence_end)', async () => {
    const server = createServer({ authenticate, authorize, logger: { warn: () => {}, error: () => {} } });
    await using _ = server;
    const { url } = await server.listen(0);
    const { ws, frames, send, next } = await rawWsLine(url, 'admin', ['presence_end']);
    for (const [id, channel] of [['s1', 'admins:chat'], ['s2', 'lobby']]) send({ type: 'subscribe', id, channel });
    send({ type: 'presence_subscribe', id: 'p1', channel: 'admins:chat' });
    send({ type: 'enter', id: 'e1', channel: 'admins:chat' });
    await next((f) => f.id === 'e1', 'all held');
    expect(frames.filter((f) => f.type === 'error')).toEqual([]);

    send({ type: 'refresh', id: 'r1', token: 'demoted' });
    expect(await next((f) => f.id === 'r1', 'refreshed')).toMatchObject({ type: 'refreshed' });
    expect(await next((f) => f.type === 'unsubscribed', 'the subscription ends')).toMatchObject({ channel: 'admins:chat', code: 'forbidden' });
    expect(await next((f) => f.type === 'presence_unsubscribed', 'the presence watch ends')).toEqual({
      type: 'presence_unsubscribed',
      channel: 'admins:chat',
      code: 'forbidden',
      message: 'presence to "admins:chat" is no longer allowed after the token refresh',
    });
    expect(await next((f) => f.type === 'left', 'the membership ends')).toEqual({
      type: 'left',
      channel: 'admins:chat',
      code: 'forbidden',
      message: 'enter to "admins:chat" is no longer allowed after the token refresh',
    });
    expect(frames.filter((f) => f.type === 'error')).toEqual([]);
    // Nothing of the channel reaches the session any more; what is still allowed goes on.
    await server.publish('admins:chat', 'admins only');
    await server.publish('lobby', 'everything before has been delivered');
    await next((f) => f.type === 'message' && f.channel === 'lobby', 'the lobby message');
    expect(frames.filter((f) => f.type === 'message' && f.channel === 'admins:chat')).toEqual([]);
    expect(frames.filter((f) => f.type === 'unsubscribed')).toHaveLength(1);
    ws.close();
  });

  it('a client that did not offer presence_end is told with errors naming no request, not frames it cannot read (protocol §1)', async () => {
    const server = createServer({ authenticate, authorize, logger: { warn: () => {}, error: () => {} } });
    await using _ = server;
    const { url } = await server.listen(0);
    const { ws, frames, send, next } = await rawWsLine(url, 'admin');
    send({ type: 'presence_subscribe', id: 'p1', channel: 'admins:chat' });
    send({ type: 'enter', id: 'e1', channel: 'admins:chat' });
    await next((f) => f.id === 'e1', 'both held');
    send({ type: 'refresh', id: 'r1', token: 'demoted' });
    await until(() => frames.filter((f) => f.type === 'error').length === 2, 'both ended');
    expect(frames.filter((f) => f.type === 'error').map((f) => [f.id, f.code, f.message]).sort()).toEqual([
      [undefined, 'forbidden', 'enter to "admins:chat" is no longer allowed after the token refresh'],
      [undefined, 'forbidden', 'presence to "admins:chat" is no longer allowed after the token refresh'],
    ]);
    expect(frames.filter((f) => f.type === 'presence_unsubscribed' || f.type === 'left')).toEqual([]);
    ws.close();
  });

  it.each(allTransports)('over %s: the client\'s channel and presence fail forbidden and get nothing more after the refresh', async (_name, transport) => {
    // A token that lives 1.5 s: the client refreshes it (at 80 %) as another user.
    const life = 1500;
    await using t = await startServer(
      { authenticate: ({ token }) => (token ? { user: token, expiresAt: Date.now() + life } : null), authorize, logger: { warn: () => {}, error: () => {} } },
      { transports: [transport()] },
    );
    let user = 'admin';
    const client = t.client({ getToken: () => user });
    const admins = client.channel('admins:chat');
    const lobby = client.channel('lobby');
    const got: unknown[] = [];
    admins.on('message', (m) => void got.push(m.data));
    lobby.on('message', (m) => void got.push(m.data));
    const who = admins.presence;
    const joined: unknown[] = [];
    who.on('join', (m) => void joined.push(m.user));
    await until(() => admins.getSnapshot().state === 'subscribed' && lobby.getSnapshot().state === 'subscribed', 'both subscribed');
    await until(() => who.getSnapshot().state === 'synced', 'the presence is synced');
    await t.server.publish('admins:chat', 'before');
    await until(() => got.includes('before'), 'the admins message while allowed');
    user = 'demoted';
    await until(() => admins.getSnapshot().state === 'failed', 'the admins channel fails after the refresh', 10_000);
    expect(admins.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'forbidden' } });
    await until(() => who.getSnapshot().state === 'failed', 'the presence fails too');
    expect(who.getSnapshot()).toMatchObject({ state: 'failed', members: [], error: { code: 'forbidden' } });
    // Another admin entering is no longer shown to this client.
    const other = t.client({ getToken: () => 'admin' });
    await other.channel('admins:chat').presence.enter({ name: 'other admin' });
    await t.server.publish('admins:chat', 'after');
    await t.server.publish('lobby', 'barrier');
    await until(() => got.includes('barrier'), 'the lobby still delivers');
    expect(got).toEqual(['before', 'barrier']);
    expect(joined).toEqual([]);
    expect(who.getSnapshot()).toMatchObject({ state: 'failed', members: [] });
  });
});

import { describe, expect, it } from 'vitest';
import { createServer, type ServerOptions } from '@tidewire/server';
import { rawWsLine as rawLine } from './helpers/raw-ws-line';

/**
 * A request that replaces what a session holds on a channel — a resubscribe, a new presence
 * watch, entering again — is authorized like the first (docs/server.md: "`authorize` runs on every
 * subscribe, resubscribe and publish, so leaving a group takes effect at the next one"). Refused,
 * it ends what it would have replaced: the old stream no longer reaches the client. The reference
 * client unsubscribes by itself on `forbidden`; these speak the protocol directly, as any client may.
 */
async function start(options: ServerOptions) {
  const server = createServer({ authenticate: ({ token }) => ({ user: token }), logger: { warn: () => {}, error: () => {} }, ...options });
  const { url } = await server.listen(0);
  return { server, url, [Symbol.asyncDispose]: () => server.close() };
}

describe('a refused replacement ends what it replaces', () => {
  it.each([
    ['refused', () => false, 'forbidden'],
    ['failing in authorize', () => Promise.reject(new Error('directory down')), 'server_error'],
  ])('a resubscribe %s: the old subscription ends', async (_how, verdict: () => boolean | Promise<boolean>, code) => {
    let allowed = true;
    await using t = await start({ authorize: ({ channel }) => (channel !== 'group:secret' || allowed ? true : verdict()) });
    const alice = await rawLine(t.url, 'alice');
    alice.send({ type: 'subscribe', id: 's1', channel: 'group:secret' });
    alice.send({ type: 'subscribe', id: 'b1', channel: 'barrier' });
    await alice.next((f) => f.type === 'subscribed' && f.id === 'b1', 'both subscribed');
    allowed = false;
    alice.send({ type: 'subscribe', id: 's2', channel: 'group:secret', since: { epoch: alice.frames[1]!.epoch, offset: 0 } });
    expect(await alice.next((f) => f.id === 's2', 'the answer to the resubscribe')).toMatchObject({ type: 'error', code });
    await t.server.publish('group:secret', 'after leaving');
    await t.server.publish('barrier', 'everything before has been delivered');
    await alice.next((f) => f.type === 'message' && f.channel === 'barrier', 'the barrier message');
    expect(alice.frames.filter((f) => f.type === 'message' && f.channel === 'group:secret')).toEqual([]);
    alice.ws.close();
  });

  it('a presence watch refused again: the old watch ends', async () => {
    let allowed = true;
    await using t = await start({ authorize: ({ channel, action }) => action !== 'presence' || channel !== 'audit' || allowed });
    const alice = await rawLine(t.url, 'alice');
    alice.send({ type: 'presence_subscribe', id: 'p1', channel: 'audit' });
    alice.send({ type: 'presence_subscribe', id: 'p2', channel: 'barrier' });
    await alice.next((f) => f.type === 'presence_snapshot' && f.id === 'p2', 'both watched');
    allowed = false;
    alice.send({ type: 'presence_subscribe', id: 'p3', channel: 'audit' });
    expect(await alice.next((f) => f.id === 'p3', 'the answer')).toMatchObject({ type: 'error', code: 'forbidden' });
    const bob = await rawLine(t.url, 'bob');
    bob.send({ type: 'enter', id: 'e1', channel: 'audit', info: { secret: 'bob is auditing' } });
    await bob.next((f) => f.id === 'e1', 'bob entered audit');
    bob.send({ type: 'enter', id: 'e2', channel: 'barrier' });
    await alice.next((f) => f.type === 'presence_change' && f.channel === 'barrier', 'the barrier join');
    expect(alice.frames.filter((f) => f.type === 'presence_change' && f.channel === 'audit')).toEqual([]);
    alice.ws.close();
    bob.ws.close();
  });

  it('entering again refused: the membership ends, and every watcher sees it leave', async () => {
    let allowed = true;
    await using t = await start({ authorize: ({ user, action }) => action !== 'enter' || user !== 'alice' || allowed });
    const carol = await rawLine(t.url, 'carol');
    const alice = await rawLine(t.url, 'alice');
    alice.send({ type: 'enter', id: 'e1', channel: 'room', info: { status: 'here' } });
    await alice.next((f) => f.id === 'e1', 'alice entered');
    carol.send({ type: 'presence_subscribe', id: 'p1', channel: 'room' });
    const snapshot = await carol.next((f) => f.type === 'presence_snapshot', 'the snapshot');
    expect(snapshot.members).toEqual([expect.objectContaining({ user: 'alice' })]);
    allowed = false;
    alice.send({ type: 'enter', id: 'e2', channel: 'room', info: { status: 'still here' } });
    expect(await alice.next((f) => f.id === 'e2', 'the answer')).toMatchObject({ type: 'error', code: 'forbidden' });
    const left = await carol.next((f) => f.type === 'presence_change' && f.action === 'leave', 'alice leaves');
    expect(left.member).toMatchObject({ user: 'alice', info: { status: 'here' } });
    alice.ws.close();
    carol.ws.close();
  });
});

import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { createServer, type ServerOptions } from '@tidewire/server';
import { until } from './helpers/servers';

/**
 * A request that replaces what a session holds on a channel — a resubscribe, a new presence
 * watch, entering again — is authorized like the first (docs/server.md: "`authorize` runs on every
 * subscribe, resubscribe and publish, so leaving a group takes effect at the next one"). Refused,
 * it ends what it would have replaced: the old stream no longer reaches the client. The reference
 * client unsubscribes by itself on `forbidden`; these speak the protocol directly, as any client may.
 */
type Frame = { type: string; id?: string; channel?: string; [key: string]: unknown };

/** A raw WebSocket protocol line, connected with `token`. */
async function rawLine(url: string, token: string) {
  const ws = new WebSocket(url);
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const send = (frame: object) => ws.send(JSON.stringify(frame));
  /** The first frame matching, once it arrived. */
  const next = async (match: (f: Frame) => boolean, what: string): Promise<Frame> => {
    await until(() => frames.some(match), what);
    return frames.find(match)!;
  };
  send({ type: 'connect', v: 1, token });
  await next((f) => f.type === 'connected', 'connected');
  return { ws, frames, send, next };
}

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

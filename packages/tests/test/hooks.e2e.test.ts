import { describe, expect, it } from 'vitest';
import { type ChannelMessage, type TransportFactory } from '@tidewire/core';
import { rpc } from '@tidewire/core/rpc';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { websocket } from '@tidewire/core/websocket';
import { PublishRefusal, createServer, type Authorize } from '@tidewire/server';
import { injectedWebSocket } from './helpers/env';
import { startServer, until } from './helpers/servers';
import { withTestBroker } from './helpers/test-broker';

type ServerOptions = NonNullable<Parameters<typeof createServer>[0]>;

const transports: [string, () => TransportFactory][] = [
  ['websocket', () => websocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }) })],
  ['sse', () => sse()],
  ['longpoll', () => longpoll()],
];

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
}

interface User {
  readonly id: string;
}

/** Which groups each user belongs to (an app would ask its database). */
const groups = new Map<string, ReadonlySet<string>>([['g1', new Set(['alice', 'bob'])]]);

/**
 * The per-user channel patterns of docs/server.md ("Per-user channels"), verbatim:
 * - `user:ID` — a user's private inbox: only that user subscribes; only the server publishes.
 * - `dm:A:B` — a conversation of two users, ids sorted so there is one channel per pair: both may
 *   subscribe and publish, nobody else.
 * - `group:ID` — members only, both ways (membership looked up per request: leaving takes effect
 *   at the next subscribe or publish).
 */
const authorizeTyped: Authorize<User> = async ({ user, channel, action }) => {
  const [kind, a, b, extra] = channel.split(':');
  if (kind === 'user') return action === 'subscribe' && a === user.id && b === undefined;
  if (kind === 'dm') return a !== undefined && b !== undefined && extra === undefined && a < b && (user.id === a || user.id === b);
  if (kind === 'group') return b === undefined && (groups.get(a ?? '')?.has(user.id) ?? false);
  return true;
};
// The test servers are untyped (`createServer()` without <User>); authenticate below returns { id }.
const authorize = authorizeTyped as Authorize;

describe.each(transports)('server-side hooks over %s against the real server', (_name, transport) => {
  const start = (options: ServerOptions = {}) =>
    startServer(
      withTestBroker({
        logger: { warn: () => {}, error: () => {} },
        authenticate: ({ token }) => (token ? { user: { id: token } } : null),
        ...options,
      }),
      { transports: [transport()] },
    );

  it('onPublish passes, transforms (server fields, sanitizing) and refuses with a typed error', async () => {
    const seen: unknown[] = [];
    await using t = await start({
      onPublish: ({ user, channel, data }) => {
        seen.push({ channel, data });
        const text = (data as { text?: unknown }).text;
        if (typeof text !== 'string') throw new PublishRefusal('a message needs a text', 'bad_request');
        if (text.includes('spam')) throw new PublishRefusal('no spam, please');
        if (text === 'pass') return undefined;
        if (text === 'refuse-quietly') return false;
        if (text === 'erase') return { data: undefined }; // stored as null: JSON has no undefined
        if (text === 'to-bytes') return { data: Buffer.from('xyz') }; // stored as the bytes envelope
        return { data: { text: text.replaceAll('<', '&lt;'), from: (user as User).id, server: true } };
      },
    });
    const alice = t.client({ token: 'alice' });
    const bob = t.client({ token: 'bob' });
    const got: ChannelMessage[] = [];
    const room = bob.channel('room:1');
    room.on('message', (m) => got.push(m));
    await until(() => room.getSnapshot().state === 'subscribed', 'bob subscribed');
    const publisher = alice.channel('room:1');

    const first = await publisher.publish({ text: '<b>hi</b>' });
    expect(await rejection(publisher.publish({ text: 'buy spam now' }))).toMatchObject({ code: 'forbidden', message: 'no spam, please' });
    expect(await rejection(publisher.publish({ nope: 1 }))).toMatchObject({ code: 'bad_request', message: 'a message needs a text' });
    expect(await rejection(publisher.publish({ text: 'refuse-quietly' }))).toMatchObject({ code: 'forbidden' });
    const second = await publisher.publish({ text: 'pass' });
    await publisher.publish({ text: 'erase' });
    await publisher.publish({ text: 'to-bytes' });

    await until(() => got.length === 4, 'bob receives the four stored messages');
    expect(got.map((m) => m.data)).toEqual([{ text: '&lt;b>hi&lt;/b>', from: 'alice', server: true }, { text: 'pass' }, null, { $b64: 'eHl6' }]);
    // Refused messages were never stored: the offsets are consecutive.
    expect([first.offset, second.offset]).toEqual([1, 2]);
    expect(got.map((m) => m.offset)).toEqual([1, 2, 3, 4]);
    expect(seen).toHaveLength(7);
    // Server-side publishes do not go through the hook (the app is the author).
    await t.server.publish('room:1', { unchecked: true });
    await until(() => got.length === 5, 'the server publish arrives');
    expect(seen).toHaveLength(7);
  });

  it('a throwing onPublish answers server_error (logged, nothing leaks) and the session goes on', async () => {
    const errors: unknown[] = [];
    await using t = await start({
      logger: { warn: () => {}, error: (message) => errors.push(message) },
      onPublish: ({ data }) => {
        if (data === 'boom') throw new Error('secret detail');
      },
    });
    const client = t.client({ token: 'alice' });
    expect(await rejection(client.publish('room:1', 'boom'))).toMatchObject({ code: 'server_error', message: 'internal error' });
    expect(errors.some((m) => String(m).includes('onPublish() threw'))).toBe(true);
    expect(await client.publish('room:1', 'fine')).toMatchObject({ offset: 1 });
  });

  it('echo: false — a publisher never receives its own messages, yet its position advances past them, across a reconnect', async () => {
    await using t = await start({ history: { size: 1000, ttl: 60_000 } });
    const quiet = t.client({ token: 'alice', echo: false });
    const loud = t.client({ token: 'bob' });
    const quietGot: ChannelMessage[] = [];
    const loudGot: ChannelMessage[] = [];
    const q = quiet.channel('room:e');
    const l = loud.channel('room:e');
    q.on('message', (m) => quietGot.push(m));
    l.on('message', (m) => loudGot.push(m));
    const gaps: unknown[] = [];
    q.on('gap', (g) => gaps.push(g));
    await until(() => q.getSnapshot().state === 'subscribed' && l.getSnapshot().state === 'subscribed', 'both subscribed');

    for (let i = 1; i <= 10; i++) await (i % 2 ? q : l).publish({ i });
    await until(() => loudGot.length === 10, 'bob gets all ten');
    await until(() => quietGot.length === 5, 'alice gets only bob’s five');
    expect(quietGot.map((m) => m.data)).toEqual([{ i: 2 }, { i: 4 }, { i: 6 }, { i: 8 }, { i: 10 }]);
    await until(() => q.position?.offset === 10, 'alice’s position advanced past her own last message');

    // Her own messages published while she is away are replayed from history after the reconnect,
    // and still not delivered to her; nothing is recovered twice and there is no gap.
    quiet.disconnectTransport('test');
    const pending = q.publish({ i: 11 }); // waits in the outbox while she is away
    const bobs = await l.publish({ i: 12 });
    const hers = await pending;
    expect([hers.offset, bobs.offset].sort()).toEqual([11, 12]);
    await until(() => quietGot.length === 6 && q.position?.offset === 12, 'alice caught up');
    expect(quietGot.at(-1)).toMatchObject({ data: { i: 12 }, offset: bobs.offset });
    expect(quietGot.map((m) => m.offset)).toEqual([2, 4, 6, 8, 10, bobs.offset]);
    expect(gaps).toEqual([]);
    // The default (echo on) still delivers one's own messages.
    expect(loudGot.filter((m) => (m.data as { i: number }).i % 2 === 0)).toHaveLength(6);
  });

  it('server.publish(…, { except: session }) — the sender gets the position, not the message; others get it; no hole, no gap', async () => {
    const ref: { server?: { publish: (channel: string, data: unknown, options: { except: string }) => Promise<unknown> } } = {};
    await using t = await start({
      // The common shape: a client asks (rpc), the server broadcasts to the room except the asker.
      rpc: { say: async ({ session, data }) => ref.server!.publish('room:x', data, { except: session.id }) },
    });
    ref.server = t.server;
    const alice = t.client({ token: 'alice' });
    const bob = t.client({ token: 'bob' });
    const aliceGot: ChannelMessage[] = [];
    const bobGot: ChannelMessage[] = [];
    const gaps: unknown[] = [];
    const a = alice.channel('room:x');
    const b = bob.channel('room:x');
    a.on('message', (m) => aliceGot.push(m));
    a.on('gap', (g) => gaps.push(g));
    b.on('message', (m) => bobGot.push(m));
    await until(() => a.getSnapshot().state === 'subscribed' && b.getSnapshot().state === 'subscribed', 'both subscribed');
    await rpc(alice, 'say', { text: 'from alice' });
    await until(() => bobGot.length === 1 && a.position?.offset === 1, 'bob has it; alice advanced past it');
    expect(bobGot[0]).toMatchObject({ offset: 1, data: { text: 'from alice' } });
    await b.publish({ text: 'from bob' });
    await until(() => aliceGot.length === 1, 'alice gets the next one');
    expect(aliceGot[0]).toMatchObject({ offset: 2, data: { text: 'from bob' } });
    expect(gaps).toEqual([]);
    expect(a.position?.offset).toBe(2);
  });

  describe('per-user channels: the documented authorize patterns', () => {
    it('user:ID — only that user subscribes; nobody publishes but the server', async () => {
      await using t = await start({ authorize });
      const alice = t.client({ token: 'alice' });
      const mallory = t.client({ token: 'mallory' });
      const inbox = alice.channel('user:alice');
      const got: unknown[] = [];
      inbox.on('message', (m) => got.push(m.data));
      await until(() => inbox.getSnapshot().state === 'subscribed', 'alice subscribed to her inbox');
      const spy = mallory.channel('user:alice');
      await until(() => spy.getSnapshot().state === 'failed', 'mallory refused');
      expect(spy.getSnapshot()).toMatchObject({ error: { code: 'forbidden' } });
      expect(await rejection(alice.publish('user:alice', 'self'))).toMatchObject({ code: 'forbidden' });
      expect(await rejection(mallory.publish('user:alice', 'phish'))).toMatchObject({ code: 'forbidden' });
      await t.server.publish('user:alice', 'you have mail');
      await until(() => got.length === 1, 'the server’s message arrives');
      expect(got).toEqual(['you have mail']);
      const nested = alice.channel('user:alice:extra');
      await until(() => nested.getSnapshot().state === 'failed', 'a longer name is not hers');
    });

    it('dm:A:B — both users (ids sorted) subscribe and publish; nobody else; the unsorted name is refused', async () => {
      await using t = await start({ authorize });
      const alice = t.client({ token: 'alice' });
      const bob = t.client({ token: 'bob' });
      const carol = t.client({ token: 'carol' });
      const a = alice.channel('dm:alice:bob');
      const b = bob.channel('dm:alice:bob');
      const got: unknown[] = [];
      b.on('message', (m) => got.push(m.data));
      await until(() => a.getSnapshot().state === 'subscribed' && b.getSnapshot().state === 'subscribed', 'both subscribed');
      await a.publish('hi bob');
      await b.publish('hi alice');
      await until(() => got.length === 2, 'bob sees both');
      expect(await rejection(carol.publish('dm:alice:bob', 'hi'))).toMatchObject({ code: 'forbidden' });
      const c = carol.channel('dm:alice:bob');
      await until(() => c.getSnapshot().state === 'failed', 'carol refused');
      expect(await rejection(alice.publish('dm:bob:alice', 'x'))).toMatchObject({ code: 'forbidden' });
    });

    it('group:ID — members only, both ways', async () => {
      await using t = await start({ authorize });
      const bob = t.client({ token: 'bob' });
      const carol = t.client({ token: 'carol' });
      const g = bob.channel('group:g1');
      await until(() => g.getSnapshot().state === 'subscribed', 'bob (member) subscribed');
      expect(await g.publish('hello group')).toMatchObject({ offset: 1 });
      const c = carol.channel('group:g1');
      await until(() => c.getSnapshot().state === 'failed', 'carol (not a member) refused');
      expect(await rejection(carol.publish('group:g1', 'x'))).toMatchObject({ code: 'forbidden' });
      const unknown = bob.channel('group:nope');
      await until(() => unknown.getSnapshot().state === 'failed', 'an unknown group refuses everyone');
    });
  });
});

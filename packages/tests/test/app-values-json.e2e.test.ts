import { describe, expect, it } from 'vitest';
import { isTidewireError, type ChannelMessage, type TidewireError } from '@tidewire/core';
import { rpc } from '@tidewire/core/rpc';
import { MemoryBroker, type createServer } from '@tidewire/server';
import { startServer, until } from './helpers/servers';
import { withTestBroker } from './helpers/test-broker';
import { allTransports } from './helpers/transports';

/**
 * A value from app code on the server that is not JSON never reaches the wire or the broker: an
 * `onPublish` answer or an rpc result that has no JSON form is refused `server_error` at once (was:
 * the publish stored, then never deliverable — every later message of the channel stuck behind it;
 * the rpc left to time out), and the channel goes on. On every transport.
 */

type ServerOptions = NonNullable<Parameters<typeof createServer>[0]>;

/** `levels` objects nested, built without recursion. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;

/** What a hook or handler may answer that has no JSON form (or nests past the default maxDepth, 64), by name. */
const NOT_JSON = new Map<string, unknown>([
  ['function', () => 1],
  ['symbol', Symbol('s')],
  ['bigint', 10n],
  ['cycle', cyclic],
  ['too-deep', nested(100)],
]);

/** The rejection code of `promise`, which must reject with a Tidewire error. */
async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    (value) => `resolved ${JSON.stringify(value)}`,
    (e: unknown) => (isTidewireError(e) ? e.code : `not a TidewireError: ${String(e)}`),
  );
}

describe.each(allTransports)('app values that are not JSON over %s', (_name, transport) => {
  const start = (options: ServerOptions) => {
    const logged: string[] = [];
    const logger = { warn: () => {}, error: (message: string) => void logged.push(message) };
    return startServer(withTestBroker({ logger, ...options }), { transports: [transport()] }).then((t) => ({ t, logged }));
  };

  it('onPublish answering a function, a symbol, a BigInt, a cycle or data too deep: the publish is refused server_error, nothing is stored, later publishes flow', async () => {
    const { t, logged } = await start({
      onPublish: ({ data }) => {
        if (typeof data !== 'string') return undefined;
        if (NOT_JSON.has(data)) return { data: NOT_JSON.get(data) };
        if (data === 'undefined') return { data: undefined }; // no JSON form either, but documented: stored as null
        return { data: { text: data } };
      },
    });
    await using _server = t;
    const publisher = t.client();
    const subscriber = t.client();
    const errors: TidewireError[] = [];
    subscriber.on('error', (e) => errors.push(e));
    const live = subscriber.channel('room');
    const got: ChannelMessage[] = [];
    live.on('message', (m) => got.push(m));
    await until(() => live.getSnapshot().state === 'subscribed', 'subscribed');

    const room = publisher.channel('room');
    expect((await room.publish('before')).offset).toBe(1);
    for (const name of NOT_JSON.keys()) expect(await rejectionCode(room.publish(name))).toBe('server_error');
    expect((await room.publish('undefined')).offset).toBe(2);
    expect((await room.publish('after')).offset).toBe(3);
    await until(() => got.length === 3, 'the subscriber gets every stored message');
    expect(got.map((m) => [m.offset, m.data])).toEqual([
      [1, { text: 'before' }],
      [2, null],
      [3, { text: 'after' }],
    ]);
    expect(logged.filter((m) => m.startsWith('tidewire: onPublish() returned data that cannot be sent'))).toHaveLength(NOT_JSON.size);

    // What is stored is readable: history answers, and a subscriber starting from the recent past gets it all.
    const reader = t.client();
    const page = await reader.channel('room').history({ limit: 10 });
    expect(page.messages.map((m) => m.data)).toEqual([{ text: 'after' }, null, { text: 'before' }]);
    const late = t.client().channel('room', { recent: 10 }); // a client that does not hold the channel yet
    const replayed: unknown[] = [];
    late.on('message', (m) => replayed.push(m.data));
    await until(() => replayed.length === 3, 'the recent past is replayed');
    expect((await room.publish('live')).offset).toBe(4);
    await until(() => replayed.length === 4 && got.length === 4, 'and the live stream follows');
    expect(replayed).toEqual([{ text: 'before' }, null, { text: 'after' }, { text: 'live' }]);
    expect(errors).toEqual([]);
    expect(live.getSnapshot().state).toBe('subscribed');
  });

  it('an rpc handler returning a function, a symbol, a BigInt, a cycle or a result too deep: the call rejects server_error, not timeout', async () => {
    const { t, logged } = await start({
      rpc: {
        give: ({ data }) => (data === 'undefined' ? undefined : NOT_JSON.has(data as string) ? NOT_JSON.get(data as string) : { echo: data }),
      },
    });
    await using _server = t;
    const client = t.client();
    // A timeout far beyond the test's: only the server's answer can settle these calls.
    const codes = await Promise.all([...NOT_JSON.keys()].map((name) => rejectionCode(rpc(client, 'give', name, { timeout: 120_000 }))));
    expect(codes).toEqual([...NOT_JSON.keys()].map(() => 'server_error'));
    expect(await rpc(client, 'give', 'undefined')).toBeNull();
    expect(await rpc(client, 'give', 'hello')).toEqual({ echo: 'hello' });
    expect(logged.filter((m) => m.startsWith('tidewire: rpc "give" returned a result that cannot be sent'))).toHaveLength(NOT_JSON.size);
    expect(client.getSnapshot().state).toBe('connected');
  });

  it('history: a page whose broker entry has no data rejects history() with server_error at once (was: an invalid page, then a timeout)', async () => {
    const broker = new MemoryBroker();
    const { t } = await start({ broker });
    await using _server = t;
    await t.server.publish('room', 'first');
    await broker.publish('room', { id: 'no-data', data: undefined }); // the broker's own publish skips the server's checks
    const room = t.client().channel('room');
    expect(await rejectionCode(room.history({ limit: 10 }))).toBe('server_error');
    expect((await room.history({ before: 2 })).messages.map((m) => m.data)).toEqual(['first']);
  });

  it('a session whose user (from authenticate) is not JSON is refused presence server_error (logged), which the client retries: it enters once the user is JSON', async () => {
    const odd: { id: unknown } = { id: 10n };
    const { t, logged } = await start({ authenticate: ({ token }) => ({ user: token === 'odd' ? odd : { id: token } }) });
    await using _server = t;
    const watcher = t.client({ token: 'ada' }).channel('lobby');
    const joined: unknown[] = [];
    watcher.presence.on('join', (member) => joined.push(member.user)); // a listener starts the watch
    await until(() => watcher.presence.getSnapshot().state === 'synced', 'watching');
    const entering = t.client({ token: 'odd' }).channel('lobby').presence.enter({ at: 1 });
    await until(() => logged.some((m) => m.includes('"enter"')), 'the enter is refused and logged');
    expect(joined).toEqual([]); // nothing reached the broker
    odd.id = 'fixed'; // the same user object, now JSON: the client's next try passes
    await entering;
    await until(() => joined.length === 1, 'the member appears');
    expect(joined).toEqual([{ id: 'fixed' }]);
    expect(watcher.presence.getSnapshot().members).toMatchObject([{ user: { id: 'fixed' }, info: { at: 1 } }]);
  });
});

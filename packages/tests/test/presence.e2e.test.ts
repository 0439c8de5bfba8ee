import { describe, expect, it } from 'vitest';
import { isTidewireError, type PresenceMember, type TransportFactory } from '@tidewire/core';
import { MemoryBroker, createServer } from '@tidewire/server';
import { startServer, until } from './helpers/servers';
import { withTestBroker } from './helpers/test-broker';
import { allTransports } from './helpers/transports';

type ServerOptions = NonNullable<Parameters<typeof createServer>[0]>;

/** Users are their tokens; a client's token names it. */
const auth: ServerOptions = { authenticate: ({ token }) => (token ? { user: token } : null) };

const start = (transport: () => TransportFactory, options: ServerOptions = {}) =>
  startServer(withTestBroker({ logger: { warn: () => {}, error: () => {} }, heartbeat: 1000, ...auth, ...options }), { transports: [transport()] });

const transports = allTransports;

const users = (members: readonly PresenceMember[]) => members.map((m) => m.user).sort();
const sessionOf = (client: { getSnapshot(): { state: string } }) => (client.getSnapshot() as { session?: string }).session;

describe.each(transports)('presence over %s against the real server', (_name, transport) => {
  it('shows who entered, with the server-assigned id, the authenticated user and the info; several handles are one member', async () => {
    await using t = await start(transport);
    const alice = t.client({ token: 'alice' });
    const bob = t.client({ token: 'bob' });
    const room = bob.channel('room:1');
    const joins: PresenceMember[] = [];
    const leaves: PresenceMember[] = [];
    room.presence.on('join', (m) => joins.push(m));
    room.presence.on('leave', (m) => leaves.push(m));
    await until(() => room.presence.getSnapshot().state === 'synced', 'bob watches');
    expect(room.presence.getSnapshot().members).toEqual([]);

    const first = alice.channel('room:1');
    const second = alice.channel('room:1');
    await first.presence.enter({ name: 'Alice' });
    await second.presence.enter({ name: 'Alice', tab: 2 });
    await until(() => room.presence.getSnapshot().members.length === 1 && joins.length === 2, 'bob sees alice (entered twice)');
    expect(room.presence.getSnapshot().members).toEqual([{ clientId: sessionOf(alice), user: 'alice', info: { name: 'Alice', tab: 2 } }]);

    first.presence.leave(); // the other handle is still in
    second.presence.enter({ name: 'Alice', tab: 3 });
    await until(() => joins.length === 3, 'the newest info');
    expect(leaves).toEqual([]);
    second.presence.leave(); // the last handle out: alice leaves
    await until(() => leaves.length === 1, 'bob sees alice leave');
    expect(leaves[0]).toMatchObject({ clientId: sessionOf(alice), user: 'alice' });
    expect(room.presence.getSnapshot().members).toEqual([]);
  });

  it('removes a member whose connection ends, and re-enters a client after its reconnect', async () => {
    await using t = await start(transport);
    const alice = t.client({ token: 'alice' });
    const carol = t.client({ token: 'carol' });
    const watcher = t.client({ token: 'bob' }).channel('room:2');
    watcher.presence.subscribe(() => {});
    await alice.channel('room:2').presence.enter();
    await carol.channel('room:2').presence.enter();
    await until(() => users(watcher.presence.getSnapshot().members).join() === 'alice,carol', 'both present');

    const oldSession = sessionOf(alice);
    alice.disconnectTransport('test: drop');
    await until(() => alice.getSnapshot().state === 'connected' && sessionOf(alice) !== oldSession, 'alice reconnected');
    const newSession = sessionOf(alice);
    await until(
      () => watcher.presence.getSnapshot().members.some((m) => m.clientId === newSession) && !watcher.presence.getSnapshot().members.some((m) => m.clientId === oldSession),
      'the old alice gone, the new alice present',
      20_000,
    );

    carol.close(); // the session ends for good: carol is no member any more
    await until(() => users(watcher.presence.getSnapshot().members).join() === 'alice', 'carol removed', 20_000);
  });

  it('resyncs a watcher after its own drop: a full snapshot, and the joins and leaves it missed as events', async () => {
    await using t = await start(transport);
    const bob = t.client({ token: 'bob' });
    const room = bob.channel('room:3');
    const events: string[] = [];
    room.presence.on('join', (m) => events.push(`join ${String(m.user)}`));
    room.presence.on('leave', (m) => events.push(`leave ${String(m.user)}`));
    const alice = t.client({ token: 'alice' });
    await alice.channel('room:3').presence.enter();
    await until(() => events.includes('join alice'), 'bob sees alice');

    bob.close(); // away for good, as far as the server knows
    alice.close(); // leaves while bob is away
    const carol = t.client({ token: 'carol' });
    await carol.channel('room:3').presence.enter();
    expect(room.presence.getSnapshot().state).not.toBe('synced');
    bob.connect();
    await until(() => room.presence.getSnapshot().state === 'synced' && users(room.presence.getSnapshot().members).join() === 'carol', 'bob resynced', 20_000);
    expect(events).toEqual(['join alice', 'leave alice', 'join carol']);
  });

  it('authorizes reading members (presence) and joining (enter) separately', async () => {
    await using t = await start(transport, {
      authorize: ({ user, action }) => !(action === 'enter' && user === 'mallory') && !(action === 'presence' && user === 'eve'),
    });
    const mallory = t.client({ token: 'mallory' }).channel('room:4');
    const entered = await mallory.presence.enter().then(
      () => 'entered',
      (e: unknown) => (isTidewireError(e) ? e.code : 'other'),
    );
    expect(entered).toBe('forbidden');
    mallory.presence.subscribe(() => {}); // may still see who is there
    await until(() => mallory.presence.getSnapshot().state === 'synced', 'mallory watches');

    const eve = t.client({ token: 'eve' }).channel('room:4');
    await eve.presence.enter(); // may join without seeing
    eve.presence.subscribe(() => {});
    await until(() => eve.presence.getSnapshot().state === 'failed', 'eve refused');
    expect(eve.presence.getSnapshot().error?.code).toBe('forbidden');
    await until(() => users(mallory.presence.getSnapshot().members).join() === 'eve', 'mallory sees eve');
  });
});

describe('presence limits', () => {
  it('a session watches, and is a member of, at most maxSubscriptions channels', async () => {
    await using t = await startServer({ logger: { warn: () => {}, error: () => {} }, limits: { maxSubscriptions: 2 } });
    const client = t.client();
    await client.channel('a').presence.enter();
    await client.channel('b').presence.enter();
    await expect(client.channel('c').presence.enter()).rejects.toMatchObject({ code: 'forbidden' });
    await client.channel('a').presence.enter({ again: true }); // entering a held channel again is fine
  });
});

describe('presence against a server without it', () => {

  it('refuses with unsupported, locally, when the broker has no presence', async () => {
    // A broker from before presence existed: only the required methods.
    const memory = new MemoryBroker();
    const legacy = { publish: memory.publish.bind(memory), subscribe: memory.subscribe.bind(memory), stats: () => memory.stats(), close: () => memory.close() };
    await using t = await startServer({ broker: legacy, logger: { warn: () => {}, error: () => {} } });
    const room = t.client().channel('room:5');
    await expect(room.presence.enter()).rejects.toMatchObject({ code: 'unsupported', context: { feature: 'presence' } });
    room.presence.subscribe(() => {});
    await until(() => room.presence.getSnapshot().state === 'failed', 'failed');
    expect(room.presence.getSnapshot().error?.code).toBe('unsupported');
    await expect(room.history()).rejects.toMatchObject({ code: 'unsupported', context: { feature: 'history' } });

    // `recent` on such a server: reported on the channel, which then starts live.
    await t.server.publish('old', 'before');
    const old = t.client().channel('old', { recent: 5 });
    const errors: string[] = [];
    const got: unknown[] = [];
    old.on('error', (e) => errors.push(e.code));
    old.on('message', (m) => got.push(m.data));
    await until(() => old.getSnapshot().state === 'subscribed', 'subscribed live');
    expect(errors).toEqual(['unsupported']);
    await t.server.publish('old', 'after');
    await until(() => got.length === 1, 'live message');
    expect(got).toEqual(['after']);
    await memory.close();
  });
});

/**
 * A presence broker that is unavailable for a while: every watch and entry is refused for now
 * (`retryAfter` 50 ms, the Redis broker's way of saying so) until `recover()`.
 */
class UnavailablePresenceBroker extends MemoryBroker {
  #down = true;
  /** Requests refused so far, by kind. */
  readonly refused = { entries: 0, watches: 0 };
  recover(): void {
    this.#down = false;
  }
  #check(kind: 'entries' | 'watches'): void {
    if (!this.#down) return;
    this.refused[kind]++;
    throw Object.assign(new Error('presence store unavailable'), { retryAfter: 50 });
  }
  override async enterPresence(...args: Parameters<MemoryBroker['enterPresence']>): Promise<void> {
    this.#check('entries');
    return super.enterPresence(...args);
  }
  override async watchPresence(...args: Parameters<MemoryBroker['watchPresence']>): ReturnType<MemoryBroker['watchPresence']> {
    this.#check('watches');
    return super.watchPresence(...args);
  }
}

describe.each(transports)('presence over %s while the presence store is refusing for now', (_name, transport) => {
  const startWith = (broker: MemoryBroker) =>
    startServer({ logger: { warn: () => {}, error: () => {} }, heartbeat: 1000, ...auth, broker }, { transports: [transport()] });

  it('retries the watch and the entry each on its own: both end synced and entered once the store is back', async () => {
    const broker = new UnavailablePresenceBroker();
    await using t = await startWith(broker);
    const alice = t.client({ token: 'alice' });
    const presence = alice.channel('room').presence;
    presence.subscribe(() => {});
    const entered = presence.enter({ name: 'Alice' });
    // Refused twice each: each has been retried, so each has a retry of its own waiting (one shared timer kept only the last).
    await until(() => broker.refused.watches >= 2 && broker.refused.entries >= 2, 'both refused and retried');
    broker.recover();
    await entered;
    await until(() => presence.getSnapshot().state === 'synced' && presence.getSnapshot().members.length === 1, 'the watch retried too');
    expect(users(presence.getSnapshot().members)).toEqual(['alice']);
  });

  it('keeps retrying an entry when the last watcher stops watching meanwhile', async () => {
    const broker = new UnavailablePresenceBroker();
    await using t = await startWith(broker);
    const alice = t.client({ token: 'alice' });
    const presence = alice.channel('room').presence;
    const stopWatching = presence.subscribe(() => {});
    const entered = presence.enter({ name: 'Alice' });
    await until(() => broker.refused.watches >= 1 && broker.refused.entries >= 1, 'both refused, the entry waiting for its retry');
    stopWatching(); // an unmounted list: the entry is another component's and must go on
    broker.recover();
    await entered;
    const bob = t.client({ token: 'bob' });
    const seen = bob.channel('room').presence;
    seen.subscribe(() => {});
    await until(() => seen.getSnapshot().members.length === 1, 'bob sees alice');
    expect(users(seen.getSnapshot().members)).toEqual(['alice']);
  });
});

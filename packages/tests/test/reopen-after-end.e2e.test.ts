import { describe, expect, it } from 'vitest';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * docs/client.md: `closed | failed ─connect()→ connecting`. A reopened client is connecting like any
 * other: requests made from then on wait for its line, whatever ended the one before — a plain
 * `connect()` after `close()`, one after `failed`, or one made from a listener of `closed`/`failed`
 * (an app that reopens at once), whose termination must not end what the listener started.
 */
const quiet = { logger: { warn() {}, error() {} } };

describe.each(allTransports)('a client reopened after it ended, over %s', (_name, transport) => {
  it('close() then connect(): history, presence enter and publish made while connecting wait for the line', async () => {
    await using t = await startServer({ ...quiet, authenticate: ({ token }) => ({ user: token ?? 'anon' }) }, { transports: [transport()] });
    const client = t.client({ token: 'alice' });
    const room = client.channel('room');
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    await room.publish('one');
    client.close();
    client.connect();
    expect(client.getSnapshot().state).toBe('connecting');
    const [history, entered, published] = await Promise.all([room.history(), room.presence.enter({ tab: 1 }), room.publish('two')]);
    expect(history.messages.map((m) => m.data)).toContain('one');
    expect(entered).toBeUndefined();
    expect(published.offset).toBeGreaterThan(0);
    room.presence.subscribe(() => {});
    await until(() => room.presence.getSnapshot().members.some((m) => (m.info as { tab?: number } | undefined)?.tab === 1), 'the entered member is seen');
  });

  it('failed (a refused token) then connect() with a good one: a history read made while connecting waits for the line', async () => {
    let token = 'bad';
    await using t = await startServer({ ...quiet, authenticate: ({ token: tk }) => (tk === 'good' ? { user: tk } : null) }, { transports: [transport()] });
    const client = t.client({ getToken: () => token, lazy: false });
    client.connect();
    await until(() => client.getSnapshot().state === 'failed', 'failed: the token is refused');
    token = 'good';
    client.connect();
    const room = client.channel('room');
    const history = await room.history();
    expect(history.messages).toEqual([]);
    expect(client.getSnapshot().state).toBe('connected');
  });

  it('connect() and a publish from a `state` listener on `closed`: the publish is stored, not rejected closed', async () => {
    await using t = await startServer(quiet, { transports: [transport()] });
    const client = t.client();
    const room = client.channel('room');
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    const made: Promise<{ offset: number }>[] = [];
    const off = client.on('state', ({ to }) => {
      if (to.state !== 'closed') return;
      off();
      client.connect();
      made.push(room.publish('published after reopening'));
    });
    client.close();
    expect(made).toHaveLength(1);
    const stored = await made[0]!;
    expect(stored.offset).toBeGreaterThan(0);
    expect((await room.history()).messages.map((m) => m.data)).toContain('published after reopening');
  });

  it('connect() and a presence enter from a `subscribe` listener on `failed`: the enter resolves once the line is up', async () => {
    let token = 'bad';
    await using t = await startServer({ ...quiet, authenticate: ({ token: tk }) => (tk === 'good' ? { user: tk } : null) }, { transports: [transport()] });
    const client = t.client({ getToken: () => token, lazy: false });
    const room = client.channel('room');
    const entered: Promise<void>[] = [];
    const stop = client.subscribe(() => {
      if (client.getSnapshot().state !== 'failed') return;
      stop();
      token = 'good';
      client.connect();
      entered.push(room.presence.enter({ again: true }));
    });
    client.connect();
    await until(() => entered.length === 1, 'the listener reopened the failed client');
    await entered[0];
    expect(client.getSnapshot().state).toBe('connected');
  });
  it('connect() and a publish from a channel `subscribe` listener as close() suspends the channel: the publish is stored', async () => {
    await using t = await startServer(quiet, { transports: [transport()] });
    const client = t.client();
    const room = client.channel('room');
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    const made: Promise<{ offset: number }>[] = [];
    const off = room.subscribe(() => {
      if (room.getSnapshot().state === 'subscribed') return;
      off();
      client.connect();
      made.push(room.publish('after reopening'));
    });
    client.close();
    expect(made).toHaveLength(1);
    expect(client.getSnapshot().state).toBe('connecting');
    expect((await made[0]!).offset).toBeGreaterThan(0);
    // Made after the listener reopened, while connecting: waits for the line too.
    expect((await room.history()).messages.map((m) => m.data)).toEqual(['after reopening']);
  });
});

import { BroadcastChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createSharedClient, inProcessLocks } from '@tidewire/core/shared';
import { until } from './helpers/servers';
import { allTransports, startQuietServer } from './helpers/transports';

/**
 * docs/shared.md, "One identity per connection": tabs with the same `name` share one connection and
 * the identity of whoever holds it; tabs of different users, given names of their own, never share
 * one — bob's tab is refused alice's private channel even while alice's tab leads. (With one name,
 * bob's tab would read through alice's connection: that is what the name is for.)
 * Node: in-process Web Locks and Node's BroadcastChannel.
 */
const Bus = BroadcastChannel as unknown as typeof globalThis.BroadcastChannel;
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const done of cleanup.splice(0).reverse()) done();
});

describe.each(allTransports)('shared connections per identity over %s', (_name, transport) => {
  it("a tab of another user, with its own name, holds its own connection and is refused the first user's channel", async () => {
    await using t = await startQuietServer(transport, {
      authenticate: ({ token }) => (token ? { user: token } : null),
      authorize: ({ user, channel }) => !channel.startsWith('user:') || channel === `user:${String(user)}`,
    });
    const locks = inProcessLocks();
    const open = (user: string) => {
      const tab = createSharedClient({ url: t.url, token: user, name: `tidewire:${user}`, mode: 'leader', locks, BroadcastChannel: Bus, transports: [transport()], backoff: () => 20 });
      cleanup.push(() => tab.close());
      return tab;
    };
    const alice = open('alice');
    await until(() => alice.isLeader, 'alice leads her connection');
    const aliceInbox = alice.channel('user:alice');
    await until(() => aliceInbox.getSnapshot().state === 'subscribed', 'alice reads her inbox');

    const bob = open('bob');
    await until(() => bob.isLeader, 'bob leads a connection of his own');
    const got: unknown[] = [];
    const peek = bob.channel('user:alice');
    peek.on('message', (m) => void got.push(m.data));
    await until(() => peek.getSnapshot().state === 'failed', "bob is refused alice's inbox");
    expect(peek.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'forbidden' } });
    const own = bob.channel('user:bob');
    const bobGot: unknown[] = [];
    own.on('message', (m) => void bobGot.push(m.data));
    await until(() => own.getSnapshot().state === 'subscribed', 'bob reads his own');
    // Alice's message is published first: were it to reach bob's tab, it would be there by the time his own is.
    await t.server.publish('user:alice', "alice's DM");
    await t.server.publish('user:bob', "bob's DM");
    await until(() => bobGot.length === 1, "bob's own message");
    expect(got).toEqual([]);
  });
});

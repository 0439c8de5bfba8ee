import type { TokenReason } from '@tidewire/core';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBroker } from '@tidewire/server';
import { createTestKit, type TestKit } from '../src/index';
import { record, range, settlements } from './helpers';

let kit: TestKit;
afterEach(() => kit?.close());

const connected = (kitClient: { getSnapshot(): { state: string } }) => () => kitClient.getSnapshot().state === 'connected';

describe('faults.restart', () => {
  it('with history: clients reconnect to the new server and recover what they missed (recovered: true, no gap)', async () => {
    kit = createTestKit();
    const bob = kit.client();
    const stream = record(bob.channel('stream'));
    await kit.settle();
    for (const i of range(3)) await kit.server.publish('stream', i);
    const before = kit.server;
    await kit.faults.restart({ history: true });
    expect(kit.server).not.toBe(before);
    for (const i of [4, 5, 6]) await kit.server.publish('stream', i); // bob is still away
    await kit.clock.advanceUntil(connected(bob));
    await kit.settle();
    expect(stream.data()).toEqual(range(6));
    expect(stream.gaps).toEqual([]);
    expect(bob.channel('stream').getSnapshot()).toMatchObject({ state: 'subscribed', recovered: true });
    expect(before.stats().sessions).toBe(0);
  });

  it('without history: a resubscribing client gets a gap with reason epoch_changed, then the new stream', async () => {
    kit = createTestKit();
    const bob = kit.client();
    const stream = record(bob.channel('stream'));
    await kit.settle();
    const first = await kit.server.publish('stream', 'old');
    await kit.faults.restart({ history: false });
    await kit.server.publish('stream', 'lost in the restart');
    await kit.clock.advanceUntil(connected(bob));
    await kit.settle();
    const next = await kit.server.publish('stream', 'new');
    await kit.settle();
    expect(next.epoch).not.toBe(first.epoch);
    expect(stream.gaps).toEqual([
      expect.objectContaining({ channel: 'stream', reason: 'epoch_changed', from: { epoch: first.epoch, offset: 1 }, to: expect.objectContaining({ epoch: next.epoch }) }),
    ]);
    expect(stream.data()).toEqual(['old', 'new']);
  });

  it('publishes pending across a restart settle once, and are stored once', async () => {
    kit = createTestKit();
    const alice = kit.client({ lazy: false });
    alice.connect();
    const watcher = kit.client();
    const room = record(watcher.channel('room'));
    await kit.settle();
    await kit.faults.restart();
    await kit.settle();
    const settled = settlements(range(5).map((i) => alice.publish('room', i)));
    await kit.clock.advanceUntil(() => settled.count() === 5 && watcher.getSnapshot().state === 'connected');
    await kit.clock.advanceUntil(() => room.messages.length === 5);
    expect(settled.rejected).toEqual([]);
    expect(settled.resolved.map((r) => r.offset)).toEqual(range(5));
    expect(room.data()).toEqual(range(5));
  });

  it('refuses a history-less restart of a server whose broker the app supplied', async () => {
    kit = createTestKit({ broker: new MemoryBroker() });
    await expect(kit.faults.restart({ history: false })).rejects.toMatchObject({ name: 'TestKitError', code: 'invalid_options' });
  });
});

describe('faults.refuseToken', () => {
  it('a client with a fixed token fails `unauthorized` at its next connect; its pending publishes reject once', async () => {
    kit = createTestKit({ authenticate: ({ token }) => (token ? { user: token } : null) });
    const alice = kit.client({ token: 'alice', lazy: false });
    alice.connect();
    await kit.settle();
    kit.faults.refuseToken('alice');
    await kit.settle();
    expect(alice.getSnapshot().state).toBe('connected'); // an open session is left alone
    kit.faults.drop(alice);
    await kit.settle();
    const settled = settlements([alice.publish('room', 'x')]);
    await kit.clock.advanceUntil(() => alice.getSnapshot().state === 'failed');
    expect(alice.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'unauthorized' } });
    await kit.settle();
    expect(settled.rejected).toEqual([expect.objectContaining({ code: 'unauthorized' })]);
    expect(settled.resolved).toEqual([]);
  });

  it('a client with getToken gets a fresh token after the refusal and carries on', async () => {
    const reasons: TokenReason[] = [];
    kit = createTestKit({ authenticate: ({ token }) => (token ? { user: token } : null) });
    let issued = 0;
    const alice = kit.client({ getToken: ({ reason }) => (reasons.push(reason), `alice-${++issued}`) });
    const room = record(alice.channel('room'));
    await kit.settle();
    kit.faults.refuseToken('alice-1');
    kit.faults.drop(alice);
    await kit.clock.advanceUntil(connected(alice));
    await kit.server.publish('room', 'still here');
    await kit.settle();
    expect(reasons).toEqual(['connect', 'expired']);
    expect(room.data()).toEqual(['still here']);
  });

  it('refuseToken() without a token refuses everyone, anonymous included; heal() lifts it', async () => {
    kit = createTestKit();
    kit.faults.refuseToken();
    const anon = kit.client();
    anon.connect();
    await kit.settle();
    expect(anon.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'unauthorized' } });
    kit.faults.heal();
    anon.connect();
    await kit.settle();
    expect(anon.getSnapshot().state).toBe('connected');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { createTestKit, TestKitError, type TestKit } from '../src/index';
import { record, range } from './helpers';

let kit: TestKit;
afterEach(() => kit?.close());

describe('createTestKit: a real server in memory', () => {
  it('connects a client without time passing, round-trips a publish, delivers to another client', async () => {
    kit = createTestKit();
    const alice = kit.client();
    const bob = kit.client();
    const room = record(bob.channel('room:1'));
    await kit.settle();
    expect(bob.getSnapshot()).toMatchObject({ state: 'connected', transport: 'websocket' });
    expect(kit.server.stats().sessions).toBe(1); // alice connects lazily, on her first publish
    const ack = await alice.publish('room:1', { text: 'hi' });
    await kit.settle();
    expect(ack).toMatchObject({ offset: 1, epoch: expect.any(String) });
    expect(room.messages).toEqual([expect.objectContaining({ channel: 'room:1', data: { text: 'hi' }, offset: 1, id: ack.id })]);
  });

  it('delivers server publishes once and in order', async () => {
    kit = createTestKit();
    const feed = record(kit.client().channel('feed'));
    await kit.settle();
    for (const i of range(50)) await kit.server.publish('feed', i);
    await kit.settle();
    expect(feed.data()).toEqual(range(50));
    expect(feed.offsets()).toEqual(range(50));
  });

  it('runs the server hooks with the request headers the kit client declares', async () => {
    const seen: unknown[] = [];
    kit = createTestKit({
      authenticate: ({ token, request }) => (seen.push(request.headers.cookie), token ? { user: token } : null),
      authorize: ({ user, channel }) => channel !== 'admin' || user === 'root',
    });
    const client = kit.client({ token: 'alice', headers: { Cookie: 'sid=1' } });
    const admin = client.channel('admin');
    const lobby = client.channel('lobby');
    await kit.settle();
    expect(seen).toEqual(['sid=1']);
    expect(admin.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'forbidden' } });
    expect(lobby.getSnapshot()).toMatchObject({ state: 'subscribed' });
    await expect(client.publish('admin', 1)).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('keeps a quiet connection alive across an hour of kit time: server pings and client deadlines share the clock', async () => {
    kit = createTestKit({ heartbeat: 10_000 });
    const client = kit.client();
    const states: string[] = [];
    client.on('state', ({ to }) => states.push(to.state));
    client.connect();
    await kit.settle();
    await kit.clock.advance(60 * 60_000);
    expect(client.getSnapshot().state).toBe('connected');
    expect(states).toEqual(['connecting', 'connected']);
  });

  it('a zero backoff reconnects after a drop without a clock step (due timers fire by themselves)', async () => {
    kit = createTestKit();
    const client = kit.client({ backoff: () => 0 });
    client.connect();
    await kit.settle();
    const at = kit.clock.now();
    kit.faults.drop(client);
    await kit.settle();
    expect(client.getSnapshot().state).toBe('connected');
    expect(kit.clock.now()).toBe(at);
  });

  it('closes every client and the server; a closed kit refuses new clients', async () => {
    kit = createTestKit();
    const client = kit.client();
    client.connect();
    await kit.settle();
    await kit.close();
    expect(client.getSnapshot().state).toBe('closed');
    expect(kit.server.stats().sessions).toBe(0);
    expect(() => kit.client()).toThrow(TestKitError);
  });
});

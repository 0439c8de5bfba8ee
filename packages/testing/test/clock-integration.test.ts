import { afterEach, describe, expect, it } from 'vitest';
import { createTestKit, type TestKit } from '../src/index';
import { record } from './helpers';

let kit: TestKit;
afterEach(() => kit?.close());

/** docs/testing.md promises these server-side timers run on the kit clock; each test would hang or pass vacuously otherwise. */
describe('the kit clock drives the server side too', () => {
  it('token expiry: a session ends `token_expired` at expiresAt (kit time); a client without getToken then fails', async () => {
    kit = createTestKit({ authenticate: ({ token }) => ({ user: token, expiresAt: kit.clock.now() + 60_000 }) });
    const client = kit.client({ token: 'alice' });
    client.connect();
    await kit.settle();
    await kit.clock.advance(59_000);
    expect(client.getSnapshot().state).toBe('connected');
    await kit.clock.advance(1_000);
    expect(client.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'token_expired' } });
  });

  it('token refresh: a client with getToken refreshes in-band before expiry and stays connected for hours', async () => {
    let issued = 0;
    kit = createTestKit({ authenticate: ({ token }) => ({ user: token, expiresAt: kit.clock.now() + 60_000 }) });
    const client = kit.client({ getToken: () => `t${++issued}` });
    const states: string[] = [];
    client.on('state', ({ to }) => states.push(to.state));
    client.connect();
    await kit.settle();
    await kit.clock.advance(3 * 60 * 60_000);
    expect(client.getSnapshot().state).toBe('connected');
    expect(states).toEqual(['connecting', 'connected']);
    expect(issued).toBeGreaterThan(100); // one refresh a minute or so
  });

  it('history TTL: a client away longer than the history keeps gets a gap with reason history_exhausted', async () => {
    kit = createTestKit({ history: { ttl: 10_000 } });
    // Someone stays subscribed: a channel with no subscriber and nothing in history is swept (a new epoch, `epoch_changed`).
    kit.client().channel('stream');
    const bob = kit.client();
    const stream = record(bob.channel('stream'));
    await kit.settle();
    await kit.server.publish('stream', 1);
    await kit.settle();
    kit.faults.blackhole(bob);
    await kit.server.publish('stream', 2);
    await kit.clock.advance(60_000); // message 2 expired from history meanwhile
    kit.faults.heal(bob);
    await kit.clock.advanceUntil(() => bob.getSnapshot().state === 'connected');
    await kit.settle();
    await kit.server.publish('stream', 3);
    await kit.settle();
    expect(stream.gaps).toEqual([expect.objectContaining({ reason: 'history_exhausted', from: expect.objectContaining({ offset: 1 }) })]);
    expect(stream.data()).toEqual([1, 3]);
  });

  it('connect deadline: a line that opens but never says `connect` is closed by the server after connectTimeout', async () => {
    kit = createTestKit({ connectTimeout: 2_000 });
    const client = kit.client({ lazy: false, connectTimeout: 60_000 });
    kit.faults.delay(client, 5_000); // the connect frame arrives after the server's deadline
    client.connect();
    await kit.clock.advance(4_000);
    expect(kit.server.stats().sessions).toBe(0);
  });
});

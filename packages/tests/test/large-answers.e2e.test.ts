import { describe, expect, it } from 'vitest';
import type { ConnectionStateName, TidewireClient } from '@tidewire/core';
import { rpc } from '@tidewire/core/rpc';
import { until } from './helpers/servers';
import { withTestBroker } from './helpers/test-broker';
import { allTransports, startQuietServer } from './helpers/transports';

/**
 * One frame larger than `limits.maxBufferedBytes` is not a backlog: a presence snapshot of a
 * large room, a full history page, an rpc result or one big message is delivered to a client
 * that reads, and the connection stays up. (It used to close as `slow_consumer` right after the
 * send — and again on every reconnect, since the client asks again: an endless loop.) A client
 * that does not read is still closed once more than the limit plus that frame is queued
 * (limits.e2e.test.ts, burst-flush.test.ts, session-output.test.ts). Over WebSocket on loopback the
 * kernel takes a frame of this size at once, so the old rule only failed on SSE and long polling
 * here; the rule (sessionOutput.ts) is the same for all three.
 */
const LIMIT = 256 * 1024;
const BLOB = 40_000; // characters per value: each frame a client sends stays under maxPayload (64 KiB)
const options = {
  heartbeat: 2000,
  limits: { maxBufferedBytes: LIMIT, rate: { perSecond: 10_000, burst: 10_000 } },
  history: { size: 100 },
  authenticate: ({ token }: { token?: string }) => ({ user: token ?? 'anonymous' }),
  rpc: { big: () => 'r'.repeat(3 * LIMIT) },
};

/** Every state the client went through after it first connected. */
function statesAfterConnect(client: TidewireClient): ConnectionStateName[] {
  const seen: ConnectionStateName[] = [];
  client.subscribe(() => {
    const state = client.getSnapshot().state;
    if (seen.at(-1) !== state) seen.push(state);
  });
  return seen;
}

describe.each(allTransports)('answers larger than maxBufferedBytes over %s', (_name, transport) => {
  it('a presence snapshot of ~1 MB (25 members × 40 KB) reaches its watcher, with no reconnect', async () => {
    await using t = await startQuietServer(transport, withTestBroker(options));
    const members = Array.from({ length: 25 }, (_, i) => t.client({ token: `member-${i}` }));
    await Promise.all(members.map((m) => m.channel('town-hall').presence.enter({ bio: 'b'.repeat(BLOB) })));
    const watcher = t.client({ token: 'newcomer' });
    watcher.connect();
    await until(() => watcher.getSnapshot().state === 'connected', 'the watcher connects', 20_000);
    const states = statesAfterConnect(watcher);
    const presence = watcher.channel('town-hall').presence;
    presence.subscribe(() => {});
    await until(() => presence.getSnapshot().state === 'synced', 'the snapshot arrives', 30_000);
    expect(presence.getSnapshot().members).toHaveLength(25);
    expect(states).not.toContain('reconnecting');
    expect(t.server.metrics().slowConsumerCloses).toBe(0);
  });

  it('a history page of ~1 MB and an rpc result of 768 KB arrive whole, with no reconnect', async () => {
    await using t = await startQuietServer(transport, withTestBroker(options));
    for (let i = 0; i < 25; i++) await t.server.publish('archive', { i, text: 'h'.repeat(BLOB) });
    const client = t.client({ token: 'reader' });
    client.connect();
    await until(() => client.getSnapshot().state === 'connected', 'connected', 20_000);
    const states = statesAfterConnect(client);
    const page = await client.channel('archive').history({ limit: 25 });
    expect(page.messages.map((m) => (m.data as { i: number }).i)).toEqual(Array.from({ length: 25 }, (_, i) => 24 - i));
    const result = await rpc(client, 'big', null);
    expect(result).toHaveLength(3 * LIMIT);
    expect(states).not.toContain('reconnecting');
    expect(t.server.metrics().slowConsumerCloses).toBe(0);
  });

  it('a published message of 768 KB is delivered once, live and to a subscriber recovering it', async () => {
    await using t = await startQuietServer(transport, withTestBroker(options));
    const live = t.client({ token: 'live' });
    const received: number[] = [];
    const channel = live.channel('big');
    channel.on('message', (m) => void received.push((m.data as string).length));
    await until(() => channel.getSnapshot().state === 'subscribed', 'subscribed', 20_000);
    const states = statesAfterConnect(live);
    await t.server.publish('big', 'm'.repeat(3 * LIMIT));
    await t.server.publish('big', 'small');
    await until(() => received.length === 2, 'both messages arrive', 30_000);
    expect(received).toEqual([3 * LIMIT, 5]);
    expect(states).not.toContain('reconnecting');

    // A subscriber from before both: the replay carries the big one first.
    const late = t.client({ token: 'late' });
    const replayed: number[] = [];
    const again = late.channel('big', { since: { epoch: channel.getSnapshot().position!.epoch, offset: 0 } });
    again.on('message', (m) => void replayed.push((m.data as string).length));
    await until(() => replayed.length === 2, 'the replay arrives', 30_000);
    expect(replayed).toEqual([3 * LIMIT, 5]);
    expect(t.server.metrics().slowConsumerCloses).toBe(0);
  });
});

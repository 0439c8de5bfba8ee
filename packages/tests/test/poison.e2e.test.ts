import { describe, expect, it } from 'vitest';
import { isTidewireError, type ChannelMessage } from '@tidewire/core';
import { MemoryBroker } from '@tidewire/server';
import { until } from './helpers/servers';
import { allTransports, startQuietServer } from './helpers/transports';

/** Poison input is refused at the door, and a message that cannot be sent ends its subscription loudly — on every transport. */

const start = startQuietServer;

const transports = allTransports;

/** `levels` objects nested, built without recursion. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

/** Data whose encoding throws the first `failures` times: a stand-in for any message that cannot be encoded. */
function poisoned(failures: number): unknown {
  let left = failures;
  return {
    toJSON() {
      if (left-- > 0) throw new Error('cannot encode');
      return 'encoded';
    },
  };
}

describe.each(transports)('poison input over %s', (_name, transport) => {
  // 6,000 levels (the case) is sent as raw text in packages/server/test/poison.test.ts: the client's own encoder
  // cannot stringify that deep. Here: the deepest the client can send, well past the server's maxDepth (64).
  it('a publish nested 1,000 levels deep is refused bad_request, never acked or delivered; the line goes on', async () => {
    await using t = await start(transport);
    const publisher = t.client();
    const subscriber = t.client();
    const got: ChannelMessage[] = [];
    const sub = subscriber.channel('room');
    sub.on('message', (m) => got.push(m));
    await until(() => sub.getSnapshot().state === 'subscribed', 'subscribed');
    const room = publisher.channel('room');
    const refused = await room.publish(nested(1000)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTidewireError(refused) && refused.code).toBe('bad_request');
    const ack = await room.publish('after');
    expect(ack.offset).toBe(1); // nothing was stored before it
    await until(() => got.length === 1, 'the next message arrives');
    expect(got.map((m) => m.data)).toEqual(['after']);
    expect(publisher.getSnapshot().state).toBe('connected');
  });

  it('channels named after Object.prototype members are ordinary channels', async () => {
    await using t = await start(transport);
    const client = t.client();
    for (const name of ['constructor', '__proto__', 'toString']) {
      const ch = client.channel(name);
      const got: unknown[] = [];
      ch.on('message', (m) => got.push(m.data));
      await until(() => ch.getSnapshot().state === 'subscribed', `${name} subscribed`);
      await ch.publish(name);
      await until(() => got.length === 1, `${name} round trip`);
      expect(got).toEqual([name]);
    }
  });

  it('a live message that cannot be encoded for one subscriber fails that channel with server_error; the other subscriber gets it and the rest', async () => {
    const broker = new MemoryBroker();
    await using t = await start(transport, { broker });
    const [a, b] = [t.client(), t.client()];
    const channels = { a: a.channel('c'), b: b.channel('c') };
    const got: Record<'a' | 'b', unknown[]> = { a: [], b: [] };
    const errors: Record<'a' | 'b', unknown[]> = { a: [], b: [] };
    for (const k of ['a', 'b'] as const) {
      channels[k].on('message', (m) => got[k].push(m.data));
      channels[k].on('error', (e) => errors[k].push(e));
    }
    await until(() => channels.a.getSnapshot().state === 'subscribed' && channels.b.getSnapshot().state === 'subscribed', 'both subscribed');
    // Whichever subscriber the broker serves first hits the failing encode; the other's encode succeeds.
    await broker.publish('c', { id: 'm1', data: poisoned(1) });
    const failedOne = (): 'a' | 'b' | undefined => (['a', 'b'] as const).find((k) => channels[k].getSnapshot().state === 'failed');
    await until(() => failedOne() !== undefined, 'the subscriber it failed for is told, not left waiting');
    const hit = failedOne()!;
    const other = hit === 'a' ? 'b' : 'a';
    const snapshot = channels[hit].getSnapshot();
    expect(snapshot.state === 'failed' && snapshot.error.code).toBe('server_error');
    expect(errors[hit].length).toBeGreaterThan(0);
    await t.server.publish('c', 'next');
    await until(() => got[other].length === 2, 'the other subscriber gets both');
    expect(got[other]).toEqual(['encoded', 'next']);
    expect(channels[other].getSnapshot().state).toBe('subscribed');
    expect(errors[other]).toEqual([]);
  });
});

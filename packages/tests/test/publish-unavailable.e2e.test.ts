import { describe, expect, it } from 'vitest';
import type { TidewireError } from '@tidewire/core';
import { MemoryBroker } from '@tidewire/server';
import { until } from './helpers/servers';
import { allTransports, startQuietServer } from './helpers/transports';

/**
 * A broker that stores a publish and then loses the answer, as a Redis node does when the reply
 * never comes back (a stall, a dropped connection): the server refuses the publish `server_error`
 * with a `retryAfter` (a typed rejection, as while Redis is down), although it is stored. The error
 * carries the publish's id; publishing again with that id (docs/errors.md) is answered from the
 * server's dedupe with the original offset: stored once, delivered once.
 */
class LostReplyBroker extends MemoryBroker {
  /** Publishes whose answer is still to be lost. */
  lose = 1;
  calls = 0;
  override async publish(...args: Parameters<MemoryBroker['publish']>): ReturnType<MemoryBroker['publish']> {
    this.calls++;
    const result = await super.publish(...args);
    if (this.lose > 0) {
      this.lose--;
      throw Object.assign(new Error('the broker did not answer'), { retryAfter: 100 });
    }
    return result;
  }
}

describe.each(allTransports)('a publish whose stored answer was lost, over %s', (_name, transport) => {
  it('rejects server_error with retryAfter and its id; sent again with that id it settles with the original offset, delivered once', async () => {
    const broker = new LostReplyBroker();
    await using t = await startQuietServer(transport, { broker });
    const watcher = t.client();
    const received: unknown[] = [];
    const room = watcher.channel('room');
    room.on('message', (m) => void received.push(m.data));
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');

    const publisher = t.client();
    const refused = (await publisher.publish('room', { n: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    )) as TidewireError;
    expect(refused).toMatchObject({ code: 'server_error', context: { retryAfter: 100 } });
    const id = refused.context.id as string;
    expect(typeof id).toBe('string');

    const again = await publisher.publish('room', { n: 1 }, { id }); // the recipe of docs/errors.md
    expect(again.offset).toBe(1); // the stored one: the dedupe answered
    expect(broker.calls).toBe(2);
    await publisher.publish('room', { n: 2 });
    await until(() => received.length === 2, 'both delivered');
    expect(received).toEqual([{ n: 1 }, { n: 2 }]);
  });
});

import { describe, expect, it } from 'vitest';
import { websocket } from '@tidewire/core/websocket';
import { useRedisJunk } from './helpers/redis-junk';
import { openLine } from './helpers/raw-protocol-line';
import { until } from './helpers/servers';

/**
 * A notification on a channel's pub/sub key used to be trusted as is: junk for the next offset — a
 * body without data, a numeric id — reached every live subscriber as offset n (an invalid `message`
 * frame), and the message really stored at n was dropped as already delivered, while history and
 * replays had it. Now a notification whose bodies are not `[id, data]` is not delivered: the feed
 * reads what was stored from the stream (redis/src/codec.ts decodeNotification, redisBroker.ts).
 */
const t = useRedisJunk('displace');

describe('a malformed notification for the next offset', () => {
  it.each([['a body without data', '[["only-id"]]'], ['a numeric id', '[[7,"x"]]']])('%s does not replace the stored message for live subscribers', async (_name, bodies) => {
    const { url } = await t.server.listen(0);
    const line = await openLine('websocket', url, websocket);
    line.send({ type: 'subscribe', id: 's', channel: 'room' });
    await line.next((f) => f.type === 'subscribed', 'subscribed');
    await t.server.publish('room', 'm1');
    await line.next((f) => f.type === 'message' && f.offset === 1, 'm1');
    const epoch = t.cli('HGET', `${t.prefix}:{room}:meta`, 'e');
    t.publishRaw(`${t.prefix}:{room}:notify`, `*2:2:${epoch}:${bodies}`);
    await new Promise((r) => setTimeout(r, 300));
    await t.server.publish('room', 'm2');
    await t.server.publish('room', 'm3');
    await line.next((f) => f.type === 'message' && f.offset === 3, 'm3');
    await until(() => line.frames.filter((f) => f.type === 'message').length >= 3, 'three messages');
    const live = line.frames.filter((f) => f.type === 'message').map((f) => [f.offset, f.id === undefined ? '(no id)' : typeof f.id, 'data' in f ? f.data : '(no data)']);
    line.close();
    expect(live).toEqual([
      [1, 'string', 'm1'],
      [2, 'string', 'm2'],
      [3, 'string', 'm3'],
    ]);
  });
});

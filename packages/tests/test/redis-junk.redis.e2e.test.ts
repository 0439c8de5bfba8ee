import { describe, expect, it } from 'vitest';
import { useRedisJunk } from './helpers/redis-junk';
import { until } from './helpers/servers';

/**
 * Another process writes junk on the broker's pub/sub channels (a buggy or older node, a stray
 * script). Whatever it writes, the server must keep delivering the *other* channels' messages:
 * one bad notification must not take down the process's shared subscriber connection.
 */
const t = useRedisJunk('junk');

describe('junk on the Redis pub/sub channels', () => {
  it.each([
    ['a channel notification whose body is a number', async (a: string, epoch: string) => [`${t.prefix}:{${a}}:notify`, `*2:2:${epoch}:[5]`]],
    ['a channel notification whose body is null', async (a: string, epoch: string) => [`${t.prefix}:{${a}}:notify`, `*2:2:${epoch}:[null]`]],
    ['a presence change whose member is null', async (a: string) => {
      await t.broker.watchPresence!(a, () => {});
      return [`${t.prefix}:{${a}}:presence:notify`, '1:j:null'];
    }],
    ['a relay inbox message that is JSON null', async () => {
      const relay = t.broker.sessionRelay();
      relay.serve(async () => ({ status: 204, headers: {}, body: '' }));
      await new Promise((r) => setTimeout(r, 300)); // its inbox subscribed
      return [`${t.prefix}:{node:${relay.nodeId}}:inbox`, 'null'];
    }],
  ] as const)('%s on one channel does not stop live delivery on another channel', async (_name, junk) => {
    const a = `a${Math.random().toString(36).slice(2)}`;
    const b = `b${Math.random().toString(36).slice(2)}`;
    const gotA: unknown[] = [];
    const gotB: unknown[] = [];
    await t.server.subscribe(a, (m) => void gotA.push(m.data));
    await t.server.subscribe(b, (m) => void gotB.push(m.data));
    await t.server.publish(a, 'a1');
    await until(() => gotA.length === 1, 'a1');
    const epoch = t.cli('HGET', `${t.prefix}:{${a}}:meta`, 'e');
    const [where, payload] = await junk(a, epoch);
    t.publishRaw(where!, payload!);
    await t.server.publish(b, 'b1');
    await t.server.publish(a, 'a2');
    // b1 is a genuine message on an untouched channel; a2 the genuine next one of the junked channel
    await until(() => gotB.length === 1 && gotA.length === 2, `b1 and a2 delivered (got a: ${JSON.stringify(gotA)}, b: ${JSON.stringify(gotB)}; broker errors: ${t.errors.slice(-2).join(' | ')})`, 5000);
    expect(gotB).toEqual(['b1']);
    expect(gotA).toEqual(['a1', 'a2']);
  });
});

import { describe, expect, it } from 'vitest';
import { createClient as createRedisClient } from '@redis/client';
import { createServer, type ServerChannelMessage, type ServerGapInfo } from '@tidewire/server';
import { channelKeys } from '../src/keys';
import { useRedisNodes } from './redis-nodes';
import { until } from './broker-conformance';

/**
 * Redis flushed (FLUSHALL, or restarted empty) while a channel feed is filling a hole: the
 * notification of a message published just before the flush arrives after it, past offsets the
 * feed never heard of, and the fill finds the whole epoch gone. That is one loss — the epoch —
 * and the subscriber must hear of it once (`epoch_changed`), not first as `history_exhausted`
 * (the hole, read as if trimmed), then the dead epoch's message, then `epoch_changed` again.
 */
const nodes = useRedisNodes({ history: { size: 100 } });
const quiet = { warn: () => {}, error: () => {} };

describe('server.subscribe on Redis: a flush while the feed fills a hole', () => {
  it('is one onGap (epoch_changed), with no message of the flushed epoch after the last one delivered', async () => {
    const listening = await nodes.node('flush', { pubsub: 'sharded' });
    const silent = await nodes.node('flush', { pubsub: 'classic' }); // its notifications the sharded feed never hears
    const server = createServer({ broker: listening, logger: quiet });
    const events: (ServerChannelMessage | ServerGapInfo)[] = [];
    const sub = await server.subscribe('feed', (m) => void events.push(m), { onGap: (g) => void events.push(g) });
    for (let i = 1; i <= 3; i++) await listening.publish('feed', { id: `a${i}`, data: i });
    await until(() => events.length === 3, 'three');
    const { epoch } = sub;

    // 4–7 are stored but the feed hears none of them; 7's notification is caught on the side, to
    // arrive (as the real one would, in flight) only after Redis was flushed.
    const raw = createRedisClient({ url: nodes.redis().url });
    const spy = raw.duplicate();
    for (const c of [raw, spy]) c.on('error', () => {}); // the server is killed after the file
    await Promise.all([raw.connect(), spy.connect()]);
    const { notify } = channelKeys('flush', 'feed');
    const heard: string[] = [];
    await spy.subscribe(notify, (payload) => void heard.push(payload));
    for (let i = 4; i <= 7; i++) await silent.publish('feed', { id: `s${i}`, data: i });
    await until(() => heard.length === 4, 'the silent notifications');
    await raw.flushAll();
    await raw.sPublish(notify, heard[3]!);

    // The channel lives on in a new epoch.
    await listening.publish('feed', { id: 'after', data: 'after' });
    await until(() => events.some((e) => 'data' in e && e.data === 'after'), 'the new epoch\'s first message');
    await new Promise((r) => setTimeout(r, 100)); // anything late would show up
    const after = events.slice(3);
    const gaps = after.filter((e): e is ServerGapInfo => 'reason' in e);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ from: { epoch, offset: 3 }, offset: 0, reason: 'epoch_changed' });
    expect(after.map((e) => ('reason' in e ? 'gap' : `${e.epoch === epoch ? 'old' : 'new'}/${e.offset}`))).toEqual(['gap', 'new/1']);
    sub.unsubscribe();
    await Promise.all([raw.quit(), spy.quit()]);
    await server.close();
  }, 30_000);
});

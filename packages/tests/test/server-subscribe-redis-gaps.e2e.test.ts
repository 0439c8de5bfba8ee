import { describe, expect, it } from 'vitest';
import { createServer, type ServerChannelMessage, type ServerGapInfo } from '@tidewire/server';
import { useRedisNodes } from '../../redis/test/redis-nodes';
import { until } from './helpers/servers';

/**
 * `server.subscribe` on the Redis broker, where messages can be lost for good (docs/scaling.md):
 * offsets Redis no longer has are skipped, and a Redis that restarts empty starts a new epoch.
 * An in-process subscriber is told, as a client is (`gap`): `onGap` before the first message after
 * the hole, with where delivery continues — never a silent hole. A listener that delivered offsets
 * 1, 17, 18 without a word had lost 2–16 unknowingly.
 */
const nodes = useRedisNodes({ history: { size: 5 } });
const quiet = { warn: () => {}, error: () => {} };
const broker = (prefix: string, pubsub: 'sharded' | 'classic' = 'sharded') => nodes.node(prefix, { pubsub });

/** Subscribes `server.subscribe` and records messages and gaps in the order they came. */
async function follow(server: ReturnType<typeof createServer>, channel: string) {
  const events: (ServerChannelMessage | ServerGapInfo)[] = [];
  const sub = await server.subscribe(channel, (m) => void events.push(m), { onGap: (g) => void events.push(g) });
  const offsets = () => events.filter((e): e is ServerChannelMessage => 'data' in e).map((m) => m.offset);
  const gaps = () => events.filter((e): e is ServerGapInfo => 'reason' in e);
  return { events, sub, offsets, gaps };
}

describe('server.subscribe on Redis: messages lost for good are announced', () => {
  it('offsets history no longer holds: onGap (history_exhausted) before the first message after them', async () => {
    // Notifications a sharded subscriber never hears (a classic pub/sub publisher), past what history (5) keeps.
    const listening = await broker('hole', 'sharded');
    const silent = await broker('hole', 'classic');
    const server = createServer({ broker: listening, logger: quiet });
    const f = await follow(server, 'feed');
    await listening.publish('feed', { id: 'a1', data: 1 });
    for (let i = 2; i <= 20; i++) await silent.publish('feed', { id: `s${i}`, data: i });
    await listening.publish('feed', { id: 'a21', data: 21 });
    await until(() => f.offsets().includes(21), 'offset 21 arrives');
    const { epoch } = f.sub;
    expect(f.offsets()).toEqual([1, 17, 18, 19, 20, 21]); // what Redis still had, in order, once each
    expect(f.events[1]).toEqual({ epoch, offset: 16, from: { epoch, offset: 1 }, reason: 'history_exhausted' });
    expect(f.gaps()).toHaveLength(1);
    f.sub.unsubscribe();
    await server.close();
  });

  it('a Redis that restarts empty: onGap (epoch_changed) before the new epoch\'s first message', async () => {
    const b = await broker('restart');
    const server = createServer({ broker: b, logger: quiet });
    const f = await follow(server, 'feed');
    for (let i = 1; i <= 3; i++) await b.publish('feed', { id: `a${i}`, data: i });
    await until(() => f.offsets().length === 3, 'three');
    const before = f.sub.epoch;
    await nodes.redis().stop({ kill: true });
    await nodes.redis().start();
    // The broker reconnects on its own; a publish fails until it has.
    for (let tries = 0; !(await b.publish('feed', { id: 'after', data: 'after' }).catch(() => undefined)); tries++) {
      if (tries === 200) throw new Error('no publish succeeded within 20 s of the restart');
      await new Promise((r) => setTimeout(r, 100));
    }
    await until(() => f.gaps().length === 1 && f.offsets().length === 4, 'the gap, then the message');
    const [gap] = f.gaps();
    expect(gap).toMatchObject({ offset: 0, from: { epoch: before, offset: 3 }, reason: 'epoch_changed' });
    expect(gap!.epoch).not.toBe(before);
    const last = f.events.at(-1) as ServerChannelMessage;
    expect(last).toMatchObject({ epoch: gap!.epoch, offset: 1, data: 'after' });
    expect(f.events.at(-2)).toBe(gap);
    f.sub.unsubscribe();
    await server.close();
  }, 60_000);

  it('a stream without holes: no onGap, from a fresh channel on', async () => {
    const b = await broker('whole');
    const server = createServer({ broker: b, logger: quiet });
    const f = await follow(server, 'fresh');
    for (let i = 1; i <= 12; i++) await server.publish('fresh', i);
    await until(() => f.offsets().length === 12, 'twelve');
    expect(f.offsets()).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(f.gaps()).toEqual([]);
    f.sub.unsubscribe();
    await server.close();
  });
});

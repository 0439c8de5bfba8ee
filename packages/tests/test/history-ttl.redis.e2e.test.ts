import { describe, expect, it } from 'vitest';
import { useRedisNodes } from '../../redis/test/redis-nodes';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * `history.ttl` on the Redis broker, as a client sees it over every transport: after a burst and
 * a quiet spell past the TTL, neither a channel's `recent` messages nor a `history()` page holds
 * anything older (docs/survival.md: "older messages cannot be replayed"). The broker used to trim
 * at most 8 aged entries per publish and read the rest back.
 */
const TTL = 3000;
const nodes = useRedisNodes({ history: { ttl: TTL } });

describe('history.ttl on the Redis broker, through a client', () => {
  it('recent and history() hold no message older than the TTL, on every transport', async () => {
    const broker = await nodes.node('ttl');
    await using t = await startServer({ broker, logger: { warn: () => {}, error: () => {} } });
    await Promise.all(Array.from({ length: 30 }, (_, i) => t.server.publish('ch', `old${i}`, { id: `old${i}` })));
    const burstEnd = Date.now();
    await new Promise((r) => setTimeout(r, TTL * 0.6));
    await t.server.publish('ch', 'keepalive'); // keeps the stream key (its own TTL) alive
    await new Promise((r) => setTimeout(r, Math.max(0, burstEnd + TTL * 1.2 - Date.now())));
    await t.server.publish('ch', 'fresh');
    const seen = await Promise.all(
      allTransports.map(async ([name, transport]) => {
        const client = t.client({ transports: [transport()] });
        const channel = client.channel('ch', { recent: 10 });
        const got: unknown[] = [];
        channel.on('message', (m) => void got.push(m.data));
        await until(() => got.includes('fresh'), `${name}: the recent messages`);
        const page = await channel.history({ limit: 100, direction: 'forward' });
        return { name, recent: got, history: page.messages.map((m) => m.data) };
      }),
    );
    for (const { name, recent, history } of seen) {
      expect(recent.filter((d) => String(d).startsWith('old')), name).toEqual([]);
      expect(history.filter((d) => String(d).startsWith('old')), name).toEqual([]);
      expect(recent.at(-1), name).toBe('fresh');
      expect(history.at(-1), name).toBe('fresh');
    }
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type Client } from '@tidewire/core';
import { createServer, type TidewireServer } from '@tidewire/server';
import { injectedWebSocket } from './helpers/env';
import { until } from './helpers/servers';

/**
 * A bot that replies in the channel it listens to publishes from inside its listener. The default
 * (memory) broker stores that reply at once; it must still deliver the channel in offset order to
 * everyone: a nested delivery once gave every subscriber after the bot n+1 before n, an in-process
 * subscriber lost n behind a false `history_exhausted` gap, and clients had to resubscribe.
 * (The same case on both brokers: packages/redis/test/broker-conformance.ts.)
 */
const opened: { server: TidewireServer; client: Client }[] = [];
afterEach(async () => {
  for (const { server, client } of opened.splice(0)) {
    client.close();
    await server.close();
  }
});

describe('a bot replying in its own channel (memory broker)', () => {
  it('every other subscriber, in-process or over WebSocket, gets each message once, in order, without a gap', async () => {
    const logged: string[] = [];
    const server = createServer({ logger: { warn() {}, error: (m: string) => void logged.push(m) } });
    const { url } = await server.listen(0);
    const client = createClient({ url, WebSocket: injectedWebSocket });
    opened.push({ server, client });
    // The bot, subscribed first: answers every "ping" with a "pong" in the same room.
    await server.subscribe('room', (m) => {
      if (m.data === 'ping') void server.publish('room', 'pong');
    });
    // An analytics listener, subscribed after the bot.
    const analytics: string[] = [];
    const gaps: string[] = [];
    await server.subscribe('room', (m) => void analytics.push(`${m.offset}:${String(m.data)}`), {
      onGap: (g) => void gaps.push(`${g.reason} ${g.from.offset}->${g.offset}`),
    });
    const seen: string[] = [];
    const clientGaps: string[] = [];
    const room = client.channel<string>('room');
    room.on('message', (m) => void seen.push(`${m.offset}:${m.data}`));
    room.on('gap', (g) => void clientGaps.push(g.reason));
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    for (let i = 0; i < 3; i++) await room.publish('ping');
    const expected = ['1:ping', '2:pong', '3:ping', '4:pong', '5:ping', '6:pong'];
    await until(() => analytics.includes('6:pong') && seen.includes('6:pong'), 'the last pong, in-process and over WebSocket');
    expect(analytics).toEqual(expected);
    expect(gaps).toEqual([]);
    expect(seen).toEqual(expected);
    expect(clientGaps).toEqual([]);
    expect(logged).toEqual([]);
  });
});

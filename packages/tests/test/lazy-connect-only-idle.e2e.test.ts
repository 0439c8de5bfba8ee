import { describe, expect, it } from 'vitest';
import { createServer } from '@tidewire/server';
import { until } from './helpers/servers';
import { allTransports } from './helpers/transports';
import { injectedWebSocket } from './helpers/env';
import { createClient } from '@tidewire/core';

/**
 * `lazy` (docs/client.md, the state machine): the first channel use or publish connects an `idle`
 * client — and only an idle one. A reconnecting client keeps its backoff (and the server's
 * `retryAfter`) however many publishes the app makes meanwhile: each used to start an attempt at
 * once (79 attempts in 4 s at one publish per 50 ms). A closed client stays closed until `connect()`:
 * `channel()` used to reopen it quietly while `publish()` rejected `closed`.
 */
describe.each(allTransports)('lazy connects only an idle client, over %s', (_name, transport) => {
  it('publishes and channels made while reconnecting do not cut the backoff short', async () => {
    const server = createServer({ logger: { warn() {}, error() {} } });
    const { url } = await server.listen(0);
    const client = createClient({ url, WebSocket: injectedWebSocket, transports: [transport()], backoff: () => 60_000 });
    const attempts: string[] = [];
    client.on('state', ({ to }) => void (to.state === 'connecting' && attempts.push(to.state)));
    client.channel('room');
    await until(() => client.getSnapshot().state === 'connected', 'connected');
    await server.close(); // the server goes away: the client backs off for a minute
    await until(() => client.getSnapshot().state === 'reconnecting', 'reconnecting');
    const before = attempts.length;
    const queued: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      queued.push(client.publish('room', i).catch(() => 'rejected'));
      client.channel(`other-${i}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(attempts.length - before).toBe(0);
    expect(client.getSnapshot().state).toBe('reconnecting');
    client.close();
    expect(await Promise.all(queued)).toEqual(Array(20).fill('rejected'));
  });

  it('a closed client stays closed: channel() and publish() do not reopen it', async () => {
    const server = createServer({ logger: { warn() {}, error() {} } });
    const { url } = await server.listen(0);
    try {
      const client = createClient({ url, WebSocket: injectedWebSocket, transports: [transport()] });
      client.channel('room');
      await until(() => client.getSnapshot().state === 'connected', 'connected');
      client.close();
      const room = client.channel('again');
      await expect(client.publish('room', 1)).rejects.toMatchObject({ code: 'closed' });
      await new Promise((r) => setTimeout(r, 200));
      expect(client.getSnapshot().state).toBe('closed');
      expect(room.getSnapshot().state).not.toBe('subscribed');
      client.connect(); // the app asks: it opens again, with the channel
      await until(() => room.getSnapshot().state === 'subscribed', 'subscribed after connect()');
      client.close();
    } finally {
      await server.close();
    }
  });
});

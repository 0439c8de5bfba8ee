import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, isTidewireError, type ChannelMessage } from '@tidewire/core';
import { injectedWebSocket } from './helpers/env';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

const transports = allTransports;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe.each(transports)("url: '/tidewire' over %s", (name, transport) => {
  it('in a page, resolves against location and round-trips through the real server', async () => {
    await using t = await startServer({ logger: { warn: () => {}, error: () => {} } });
    // The page the client runs in: same host and port as the server, any path.
    vi.stubGlobal('location', new URL(`http://127.0.0.1:${t.port}/some/app/page?x=1`));
    const client = createClient({ url: '/tidewire', transports: [transport()], WebSocket: injectedWebSocket, backoff: () => 20 });
    try {
      const got: ChannelMessage[] = [];
      const room = client.channel('room:relative');
      room.on('message', (m) => got.push(m));
      await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
      const ack = await room.publish('hi');
      await until(() => got.length === 1, 'own message delivered');
      expect(got[0]).toMatchObject({ data: 'hi', offset: ack.offset });
      expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: name });
      // Every request went to the attach path on the page's host, none elsewhere.
      expect(t.requests.length).toBeGreaterThan(0);
      expect(t.requests.every((r) => r.url.startsWith('/tidewire'))).toBe(true);
    } finally {
      client.close();
    }
  });

  it('without a page (Node), createClient throws invalid_options at once', () => {
    expect((globalThis as { location?: unknown }).location).toBeUndefined();
    let thrown: unknown;
    try {
      createClient({ url: '/tidewire', transports: [transport()] });
    } catch (error) {
      thrown = error;
    }
    expect(isTidewireError(thrown) && thrown.code).toBe('invalid_options');
  });
});

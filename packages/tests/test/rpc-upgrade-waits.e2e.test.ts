import { describe, expect, it } from 'vitest';
import { createClient, websocket } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { rpc } from '@tidewire/core/rpc';
import { injectedWebSocket } from './helpers/env';
import { startFaultProxy } from './helpers/fault-proxy';
import { startServer, until } from './helpers/servers';

/**
 * docs/transports.md ("Upgrading back"): the switch from a fallback back to WebSocket loses nothing.
 * An rpc is at most once: one on the wire when its line goes cannot be sent again and rejects
 * `interrupted` — right when the network cut it, wrong when the client itself let a healthy line go
 * to upgrade (the handler ran, the answer was lost). So the upgrade waits while an rpc is on the wire
 * (fallback-plan.ts): the call is answered on the fallback, then the client upgrades.
 */
describe.each([
  ['sse', () => [websocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }) }), sse()], ['websocket'] as const],
  ['longpoll', () => [websocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }) }), longpoll()], ['websocket'] as const],
])('an rpc in flight during the upgrade from %s to WebSocket', (fallback, transports, blocked) => {
  it('is answered (not rejected interrupted): the upgrade waits for it', async () => {
    let release!: (v: unknown) => void;
    const answer = new Promise((r) => (release = r));
    let calls = 0;
    await using t = await startServer({ logger: { warn() {}, error() {} }, rpc: { slow: { handler: async () => (calls++, answer) } } });
    await using proxy = await startFaultProxy(t.port);
    for (const kind of blocked) proxy.set(kind, 'refuse');
    const client = createClient({ url: proxy.url(), WebSocket: injectedWebSocket, transports: transports(), upgradeDelay: 300, raceAfter: false, backoff: () => 50, transportMemory: { get: () => undefined, set() {} } });
    try {
      client.connect();
      await until(() => client.getSnapshot().state === 'connected', 'connected on the fallback');
      expect(client.getSnapshot()).toMatchObject({ transport: fallback });

      const outcome: { value?: unknown; code?: string } = {};
      const call = rpc(client, 'slow', 1, { timeout: 30_000 }).then(
        (value) => void (outcome.value = value),
        (e: { code?: string }) => void (outcome.code = e.code),
      );
      await until(() => calls === 1, 'the handler is running');
      for (const kind of blocked) proxy.set(kind, 'pass'); // the network is fine: the client would upgrade on its own
      await new Promise((r) => setTimeout(r, 1500)); // several probe windows (upgradeDelay 300 ms)
      expect(client.getSnapshot().transport).toBe(fallback); // held back while the rpc is on the wire
      release('done');
      await call;
      expect(calls).toBe(1);
      expect(outcome).toEqual({ value: 'done' });
      await until(() => client.getSnapshot().transport === 'websocket', 'upgraded once the answer was in', 20_000);
      await expect(rpc(client, 'slow', 2)).resolves.toBe('done');
    } finally {
      client.close();
    }
  });
});

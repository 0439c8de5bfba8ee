import { describe, expect, it } from 'vitest';
import { rpc } from '@tidewire/core/rpc';
import { binary } from '@tidewire/core/binary';
import type { OutboxStorage } from '@tidewire/core';
import { startQuietServer, allTransports } from './helpers/transports';
import { until } from './helpers/servers';

/**
 * rpc() docs: "signal: Abort the call: queued, it is never sent". A request can wait before it
 * reaches the outbox — a Blob argument being read (binary() codec), the stored outbox being
 * restored (`outboxStorage`) — and an abort in that window used to find nothing to cancel: the call
 * was sent and ran anyway. The client keeps such a cancel until the request goes on (client.ts `#later`).
 */
describe.each(allTransports)('rpc aborted while its Blob argument is read, over %s', (_name, transport) => {
  it('rejects aborted and never runs on the server', async () => {
    let calls = 0;
    await using t = await startQuietServer(transport, { rpc: { upload: () => (calls++, 'ran') } });
    const client = t.client({ codec: binary() });
    await client.connect();
    const controller = new AbortController();
    const call = rpc(client, 'upload', new Blob([new Uint8Array([1, 2, 3])]), { signal: controller.signal });
    controller.abort(new Error('user cancelled'));
    const outcome = await call.then((v) => ({ resolved: v }), (e: unknown) => ({ rejected: (e as { code?: string }).code }));
    // Give a sent call time to reach the server.
    await rpc(client, 'upload', null).catch(() => {});
    await until(() => calls >= 1, 'the follow-up call ran');
    expect(outcome).toEqual({ rejected: 'aborted' });
    expect(calls).toBe(1); // only the follow-up
  });
});

describe.each(allTransports)('rpc aborted while the outbox restores, over %s', (_name, transport) => {
  it('rejects aborted and never runs', async () => {
    let calls = 0;
    let release!: () => void;
    const loaded = new Promise<void>((r) => (release = r));
    // A storage whose load takes a moment (IndexedDB on a busy page).
    const storage: OutboxStorage = {
      get: async () => undefined,
      set: async () => {},
      delete: async () => {},
      list: async () => (await loaded, []),
    };
    await using t = await startQuietServer(transport, { rpc: { charge: () => (calls++, 'charged') } });
    const client = t.client({ outboxStorage: storage });
    const controller = new AbortController();
    const call = rpc(client, 'charge', { amount: 5 }, { signal: controller.signal });
    controller.abort(new Error('user cancelled'));
    release();
    const outcome = await call.then((v) => ({ resolved: v }), (e: unknown) => ({ rejected: (e as { code?: string }).code }));
    await rpc(client, 'charge', null).catch(() => {});
    await until(() => calls >= 1, 'the follow-up ran');
    expect(outcome).toEqual({ rejected: 'aborted' });
    expect(calls).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { rpc } from '@tidewire/core/rpc';
import { binary } from '@tidewire/core/binary';
import { startQuietServer, allTransports } from './helpers/transports';
import { until } from './helpers/servers';

/**
 * binary() promises bytes nested in plain objects/arrays travel as envelopes and arrive as
 * Uint8Array in place; a client publishing { name, bytes } gets exactly that back. The server's
 * own senders (server.publish data, an rpc handler's result) — documented to take bytes — only
 * convert top-level bytes: nested ones go through JSON.stringify and arrive as {"0":1,"1":2,...}
 * (a Buffer as {"type":"Buffer","data":[...]}) — silently corrupted. Now one rule (core's withEnvelopes).
 */
describe.each(allTransports)('bytes nested in server-sent data, over %s', (_name, transport) => {
  it('server.publish({ bytes }) and an rpc result { bytes } reach a binary() client as bytes (as a client publish does)', async () => {
    await using t = await startQuietServer(transport, { rpc: { file: () => ({ name: 'a.bin', bytes: new Uint8Array([1, 2, 3]) }) } });
    const client = t.client({ codec: binary() });
    const got: unknown[] = [];
    const ch = client.channel('files');
    ch.on('message', (m) => void got.push(m.data));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');
    await client.publish('files', { name: 'client.bin', bytes: new Uint8Array([1, 2, 3]) });
    await t.server.publish('files', { name: 'server.bin', bytes: new Uint8Array([1, 2, 3]) });
    await t.server.publish('files', { name: 'buffer.bin', bytes: Buffer.from([1, 2, 3]) });
    await until(() => got.length === 3, 'three messages');
    const result = await rpc(client, 'file');
    expect(got[0]).toEqual({ name: 'client.bin', bytes: new Uint8Array([1, 2, 3]) }); // holds
    expect({ server: got[1], buffer: got[2], rpc: result }).toEqual({
      server: { name: 'server.bin', bytes: new Uint8Array([1, 2, 3]) },
      buffer: { name: 'buffer.bin', bytes: new Uint8Array([1, 2, 3]) },
      rpc: { name: 'a.bin', bytes: new Uint8Array([1, 2, 3]) },
    });
  });
});

import { describe, expect, it } from 'vitest';
import { rpc } from '@tidewire/core/rpc';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * docs/errors.md `too_large` (client side): refused against the server's *announced* maxPayload.
 * Before the first `connected` nothing was announced, so nothing is refused for its size then: a
 * server configured for large frames takes a fresh client's first upload, and a lazy client's first
 * publish starts its line. (A publish queued offline that the announcement then refuses is
 * outbox.e2e.test.ts's case.)
 */
describe.each(allTransports)('a server announcing maxPayload 1 MB, over %s', (_name, transport) => {
  const big = 'x'.repeat(100_000); // above the server's default 64 KiB, below its configured limit

  it("a lazy client's first 100 KB publish starts the line and is stored", async () => {
    await using t = await startServer({ logger: { warn() {}, error() {} }, limits: { maxPayload: 1_000_000 } }, { transports: [transport()] });
    const client = t.client();
    expect(client.getSnapshot().state).toBe('idle');
    const stored = await client.publish('files', big);
    expect(stored.offset).toBe(1);
    const reader = t.client();
    const { messages } = await reader.channel('files').history();
    expect(messages.map((m) => (m.data as string).length)).toEqual([100_000]);
  });

  it("a fresh client's first 100 KB rpc reaches the handler, as one made once connected does", async () => {
    await using t = await startServer(
      { logger: { warn() {}, error() {} }, limits: { maxPayload: 1_000_000 }, rpc: { size: ({ data }) => (data as string).length } },
      { transports: [transport()] },
    );
    const client = t.client({ lazy: false });
    const first = rpc(client, 'size', big);
    client.connect();
    expect(await first).toBe(100_000);
    await until(() => client.getSnapshot().state === 'connected', 'connected');
    expect(await rpc(client, 'size', big)).toBe(100_000);
  });
});

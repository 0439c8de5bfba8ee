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
  it('an rpc made before connected that the announced limit does not allow is refused too_large as an rpc, never sent', async () => {
    const ran: unknown[] = [];
    await using t = await startServer(
      { logger: { warn() {}, error() {} }, limits: { maxPayload: 50_000 }, rpc: { size: ({ data }) => (ran.push(data), 0) } },
      { transports: [transport()] },
    );
    const client = t.client({ lazy: false });
    const refused = rpc(client, 'size', big).catch((e: unknown) => e);
    client.connect();
    const error = await refused;
    expect(error).toMatchObject({ code: 'too_large' });
    expect((error as Error).message).toMatch(/^rpc is larger than the server's limit of 50000 bytes/);
    expect(await rpc(client, 'size', 'small')).toBe(0); // the line is fine
    expect(ran).toEqual(['small']);
  });
});

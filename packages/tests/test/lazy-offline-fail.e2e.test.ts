import { describe, expect, it } from 'vitest';
import { rpc } from '@tidewire/core/rpc';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * docs/client.md options: `lazy` (default) connects on first channel use or publish; `offline: 'fail'`
 * refuses requests at once while there is no connection (`not_connected`). Together: a lazy client's
 * first publish or rpc starts the connection and is refused — it used to be refused before it could
 * start it, so a publish-only client stayed `idle` for good.
 */
describe.each(allTransports)('a lazy client with offline: "fail", over %s', (_name, transport) => {
  it.each([['publish'], ['rpc']] as const)('its first %s starts the connection (and is refused not_connected); later ones go through', async (first) => {
    await using t = await startServer({ logger: { warn() {}, error() {} }, rpc: { m: { handler: () => 'pong' } } }, { transports: [transport()] });
    const client = t.client({ offline: 'fail' });
    const attempt = first === 'publish' ? client.publish('c', 1) : rpc(client, 'm');
    await expect(attempt).rejects.toMatchObject({ code: 'not_connected' });
    await until(() => client.getSnapshot().state === 'connected', 'the refused request connected the lazy client');
    await expect(client.publish('c', 2)).resolves.toMatchObject({ offset: 1 });
    await expect(rpc(client, 'm')).resolves.toBe('pong');
  });
});

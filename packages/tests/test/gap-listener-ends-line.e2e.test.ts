import { describe, expect, it } from 'vitest';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * A gap listener that ends the line re-entrantly (client.close(), or client.disconnectTransport() to
 * "reload from scratch") leaves the channel waiting for the next line, as every other channel of the
 * client — not `subscribed` while nothing flows (SharedChannel.onSubscribed used to move it to
 * `subscribed` after the listener returned). The position the gap announced is kept: the next line
 * resubscribes from there, with no second gap.
 */
describe.each(allTransports)('a gap listener that ends the line, over %s', (_name, transport) => {
  it('leaves the channel subscribing (as close() does everywhere else), not subscribed', async () => {
    await using t = await startServer({ logger: { warn() {}, error() {} } }, { transports: [transport()] });
    for (let i = 1; i <= 3; i++) await t.server.publish('c', i);
    const client = t.client();

    // Baseline: a channel of a closed client is not `subscribed`.
    const other = client.channel('other');
    const room = client.channel('c', { since: { epoch: 'an-old-epoch', offset: 1 } }); // answered with a gap (epoch_changed)
    let gaps = 0;
    room.on('gap', () => {
      gaps++;
      client.close(); // the app gives up on the line while handling the gap
    });
    await until(() => gaps === 1, 'the gap');
    await new Promise((r) => setTimeout(r, 100));

    expect(client.getSnapshot().state).toBe('closed');
    expect(other.getSnapshot().state).not.toBe('subscribed');
    expect(room.getSnapshot().state).not.toBe('subscribed');
  });

  it('disconnectTransport() there: the next line resubscribes from the announced position, no second gap', async () => {
    await using t = await startServer({ logger: { warn() {}, error() {} } }, { transports: [transport()] });
    for (let i = 1; i <= 3; i++) await t.server.publish('c', i);
    const client = t.client();
    const room = client.channel('c', { since: { epoch: 'an-old-epoch', offset: 1 } });
    const got: unknown[] = [];
    room.on('message', (m) => got.push(m.data));
    let gaps = 0;
    room.on('gap', () => {
      if (++gaps === 1) client.disconnectTransport();
    });
    await until(() => gaps === 1, 'the gap');
    expect(room.getSnapshot().state).not.toBe('subscribed');
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed on the next line');
    await t.server.publish('c', 4);
    await until(() => got.includes(4), 'the next message');
    expect(gaps).toBe(1);
    expect(got).toEqual([4]);
    client.close();
  });
});

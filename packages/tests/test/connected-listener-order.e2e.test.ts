import { describe, expect, it } from 'vitest';
import type { ChannelMessage } from '@tidewire/core';
import { until } from './helpers/servers';
import { allTransports, startQuietServer } from './helpers/transports';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(allTransports)('publish from a state listener on reconnect over %s', (_name, transport) => {
  it('does not overtake publishes queued while offline', async () => {
    await using t = await startQuietServer(transport);
    const client = t.client();
    const watcher = t.client();
    const seen: unknown[] = [];
    const room = client.channel('order');
    watcher.channel('order').on('message', (m: ChannelMessage) => seen.push(m.data));
    await until(() => room.getSnapshot().state === 'subscribed' && watcher.channel('order').getSnapshot().state === 'subscribed', 'subscribed');
    client.disconnectTransport('test');
    const acks: Promise<unknown>[] = [room.publish('A (offline)'), room.publish('B (offline)')];
    let once = false;
    client.on('state', ({ to }) => {
      if (to.state === 'connected' && !once) {
        once = true;
        acks.push(room.publish('C (published when connected)'));
      }
    });
    await until(() => once, 'reconnected');
    await Promise.all(acks);
    await until(() => seen.length >= 3, 'watcher saw 3');
    await delay(50);
    expect(seen).toEqual(['A (offline)', 'B (offline)', 'C (published when connected)']);
  });
});

import { describe, expect, it } from 'vitest';
import { countingClock } from '../../core/test/counting-clock';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * docs/client.md: close() — "every timer stops"; the Timers section lists the release delay among
 * "every timer in the client". The release timer of a released channel used to stay armed after
 * close() for the whole `releaseDelay` (holding a Node process or a worker alive that long).
 */
describe.each(allTransports)('close() with a channel release pending, over %s', (_name, transport) => {
  it('leaves no client timer armed', async () => {
    await using t = await startServer({ logger: { warn() {}, error() {} } }, { transports: [transport()] });
    const clock = countingClock();
    const client = t.client({ clock, releaseDelay: 60_000 });
    const room = client.channel('room');
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    room.unsubscribe(); // the release waits releaseDelay
    client.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(clock.armed).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import type { Clock } from '@tidewire/core';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * docs/client.md: close() — "every timer stops"; the Timers section lists the release delay among
 * "every timer in the client". ClientHost.release_ arms a fresh Timer per release and never stops
 * it: after close() it stays armed for the whole `releaseDelay` (holding a Node process or a worker
 * alive that long). It is not cancelled by a re-acquire either, so a stale release timer can also
 * dispose a channel sooner than `releaseDelay` after its last release.
 */
function trackedClock() {
  const live = new Set<unknown>();
  const clock: Clock = {
    now: () => performance.now(),
    setTimeout(fn, ms) {
      const handle = setTimeout(() => {
        live.delete(handle);
        fn();
      }, ms);
      live.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      live.delete(handle);
      clearTimeout(handle as ReturnType<typeof setTimeout>);
    },
  };
  return { clock, live };
}

describe.each(allTransports)('close() with a channel release pending, over %s', (_name, transport) => {
  it('leaves no client timer armed', async () => {
    await using t = await startServer({ logger: { warn() {}, error() {} } }, { transports: [transport()] });
    const { clock, live } = trackedClock();
    const client = t.client({ clock, releaseDelay: 60_000 });
    const room = client.channel('room');
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    room.unsubscribe(); // the release waits releaseDelay
    client.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(live.size).toBe(0);
  });
});

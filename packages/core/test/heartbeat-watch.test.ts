import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import { systemClock } from '../src/clock';
import { heartbeatWatch, type Watched } from '../src/heartbeat-watch';
import { BlockableClock, settle } from './blockable-clock';
import { connected, fakeTransport } from './fake-transport';

/**
 * One timer watches the heartbeat deadlines of every connected line on a clock
 * (heartbeat-watch.ts). Sharing it must not couple the lines: each still ends at its own
 * deadline (idle-client.test.ts), one failing check does not stop the others, a line added
 * during a late deadline's grace does not cut the grace short, and lines added under other
 * platform timers (a suite switching fake timers on and off) are not left on timers that are gone.
 */

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/** A client on a fake line, its `reconnecting` error codes collected. */
function watchedClient(options: Partial<Parameters<typeof createClient>[0]> = {}) {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory], backoff: () => 100, ...options });
  const ends: string[] = [];
  client.on('state', ({ to }) => {
    if (to.state === 'reconnecting') ends.push(to.error.code);
  });
  client.connect();
  return { t, client, ends };
}

describe('the heartbeat watch', () => {
  it('reports a check that throws and still checks the other lines', async () => {
    vi.useFakeTimers();
    const reported: unknown[] = [];
    vi.stubGlobal('reportError', (error: unknown) => reported.push(error));
    const clock = { now: () => Date.now(), setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };
    const watch = heartbeatWatch(clock);
    const checked: string[] = [];
    const line = (name: string, left: () => number): Watched => ({
      heartbeatLeft_: () => {
        checked.push(name);
        return left();
      },
    });
    const failing = line('failing', () => {
      throw new Error('close failed');
    });
    let bLeft = 1000;
    const b = line('b', () => bLeft);
    watch.add_(failing, 1000);
    watch.add_(b, 1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(checked).toEqual(['failing', 'b']);
    expect(reported).toEqual([new Error('close failed')]);
    watch.delete_(failing);
    bLeft = 0; // b ends at its next check, which is still armed after the throw
    await vi.advanceTimersByTimeAsync(1000);
    expect(checked).toEqual(['failing', 'b', 'b']);
    watch.delete_(b);
  });

  it('a line that connects during a late deadline’s grace does not cut the grace short', async () => {
    const clock = new BlockableClock();
    const a = watchedClient({ clock });
    await settle();
    a.t.last.open();
    a.t.last.push(connected(2000)); // a's deadline: 3 s of silence
    const b = watchedClient({ clock });
    await settle();
    b.t.last.open();
    await clock.block(4000); // the loop stalls 4 s: a's deadline is 1 s overdue, a grace of 500 ms follows
    b.t.last.push(connected(2000)); // b's handshake, read right after the stall
    await clock.advance(300);
    a.t.last.push({ type: 'ping' }); // a's server answers within the grace
    await clock.advance(2000);
    expect(a.ends).toEqual([]);
    a.client.close();
    b.client.close();
  });

  it('a line added under real timers is still judged after another client came and went under fake timers', async () => {
    const real = watchedClient();
    await new Promise((resolve) => setTimeout(resolve, 0));
    real.t.last.open();
    real.t.last.push(connected(1000)); // its deadline: 2 s of silence
    vi.useFakeTimers();
    const fake = watchedClient();
    await vi.advanceTimersByTimeAsync(0);
    fake.t.last.open();
    fake.t.last.push(connected(1000));
    fake.client.close();
    vi.useRealTimers();
    // Real time now: `real` hears nothing. (An outcome, with room for a loaded machine: its deadline is 2 s.)
    for (let waited = 0; real.ends.length === 0 && waited < 20_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(real.ends[0]).toBe('heartbeat_timeout');
    real.client.close();
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { liveBytes } from '../src/heartbeat';
import { connected, connectedClient } from './fake-transport';

/**
 * Liveness is frames, or a frame's worth of bytes still arriving (heartbeat.ts liveBytes: 200 B/s over
 * the heartbeat allowance, 256 B … 16 KiB): a large frame slower than the allowance keeps a healthy
 * line alive whatever the heartbeat, but bytes that never add up to a frame — a proxy's SSE keep-alive
 * comments around a dead server, an upstream trickling a byte a second, empty long-poll answers — do
 * not, and the line ends with `heartbeat_timeout`.
 */
describe('liveness by frames and bytes', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  /** `bytes` every 100 ms for `ms` on a line whose heartbeat is `heartbeat`; every reason the line ended. */
  async function trickle(heartbeat: number, bytes: number | undefined, ms: number) {
    const { t, client } = await connectedClient(connected(heartbeat));
    const ends: unknown[] = [];
    client.subscribe(() => void (client.getSnapshot().state === 'reconnecting' && ends.push(client.getSnapshot().error)));
    for (let at = 0; at < ms; at += 100) {
      t.last.activity(bytes);
      await vi.advanceTimersByTimeAsync(100);
    }
    return { t, client, ends };
  }

  const heartbeats = [1000, 5000, 25_000];
  const allowance = (heartbeat: number) => heartbeat + Math.max(1000, heartbeat / 2);

  describe.each(heartbeats)('with a %i ms heartbeat', (heartbeat) => {
    it.each([
      ['a proxy\'s keep-alive comments (12 bytes every 100 ms)', 12],
      ['a trickle of a byte at a time', 1],
    ])('ends a line that brings only %s, however long they go on', async (_, bytes) => {
      const { client, ends } = await trickle(heartbeat, bytes, 2.5 * allowance(heartbeat));
      expect(ends[0]).toMatchObject({ code: 'heartbeat_timeout' });
      client.close();
    });

    it('keeps a line alive while a large frame arrives at 1 KB/s, slower than the allowance, and through it', async () => {
      const { t, client, ends } = await trickle(heartbeat, 100, 3 * allowance(heartbeat));
      expect(ends).toEqual([]);
      expect(client.getSnapshot().state).toBe('connected');
      t.last.push({ type: 'ping' });
      await vi.advanceTimersByTimeAsync(heartbeat);
      expect(client.getSnapshot().state).toBe('connected');
      client.close();
    });
  });

  it('counts a frame\'s worth of bytes, whatever the chunks (a sign of life once they add up to liveBytes)', async () => {
    const { t, client } = await connectedClient(connected(1000));
    // liveBytes in two chunks 1.5 s apart, every 1.8 s (the allowance is 2 s): each pair counts once.
    for (let i = 0; i < 4; i++) {
      t.last.activity(liveBytes(1000) - 1);
      await vi.advanceTimersByTimeAsync(1500);
      t.last.activity(1);
      await vi.advanceTimersByTimeAsync(300);
    }
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
  });

  it('counts activity of unknown size (a transport that cannot tell) as a sign of life, as before', async () => {
    const { client, ends } = await trickle(1000, undefined, 5000);
    expect(ends).toEqual([]);
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
  });
});

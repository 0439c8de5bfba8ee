import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LIVE_BYTES } from '../src/heartbeat';
import { connected, connectedClient } from './fake-transport';

/**
 * Liveness is frames, or a frame's worth of bytes still arriving (heartbeat.ts LIVE_BYTES): a large
 * frame slower than the heartbeat allowance keeps a healthy line alive, but bytes that never add up
 * to a frame — a proxy's SSE keep-alive comments around a dead server, an upstream trickling a byte
 * a second, empty long-poll answers — do not, and the line ends with `heartbeat_timeout`.
 */
describe('liveness by frames and bytes', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  /** `bytes` every 100 ms for `ms` (heartbeat 1 s: the line is dead after 2 s of silence). */
  async function trickle(bytes: number | undefined, ms: number) {
    const { t, client } = await connectedClient(connected(1000));
    for (let at = 0; at < ms; at += 100) {
      t.last.activity(bytes);
      await vi.advanceTimersByTimeAsync(100);
    }
    return { t, client };
  }

  it.each([
    ['a proxy\'s keep-alive comments (12 bytes)', 12],
    ['a trickle of a byte at a time', 1],
  ])('ends a line that brings only %s, however long they go on', async (_, bytes) => {
    const { t, client } = await connectedClient(connected(1000));
    const ends: unknown[] = [];
    client.subscribe(() => void (client.getSnapshot().state === 'reconnecting' && ends.push(client.getSnapshot().error)));
    for (let at = 0; at < 5000; at += 100) {
      t.last.activity(bytes);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(ends[0]).toMatchObject({ code: 'heartbeat_timeout' });
    client.close();
  });

  it('keeps a line alive while a large frame arrives slower than the allowance, and through it', async () => {
    // 40 KB/s: a 400 KB frame takes 10 s, five times the 2 s allowance.
    const { t, client } = await trickle(4096, 10_000);
    expect(client.getSnapshot().state).toBe('connected');
    t.last.push({ type: 'ping' });
    await vi.advanceTimersByTimeAsync(1500);
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
  });

  it('counts a frame\'s worth of bytes, whatever the chunks (a sign of life once they add up to LIVE_BYTES)', async () => {
    const { t, client } = await connectedClient(connected(1000));
    // LIVE_BYTES in two chunks 1.5 s apart, every 1.8 s (the allowance is 2 s): each pair counts once.
    for (let i = 0; i < 4; i++) {
      t.last.activity(LIVE_BYTES - 1);
      await vi.advanceTimersByTimeAsync(1500);
      t.last.activity(1); // makes up LIVE_BYTES with the earlier chunk: counts
      await vi.advanceTimersByTimeAsync(300);
    }
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
  });

  it('counts activity of unknown size (a transport that cannot tell) as a sign of life, as before', async () => {
    const { client } = await trickle(undefined, 5000);
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import { connected, fakeTransport } from './fake-transport';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

/**
 * The release delay (docs/client.md, Channels): the last handle released unsubscribes `releaseDelay`
 * later — counted from the last release, one timer per channel, and none left after close().
 */
describe('the release delay', () => {
  async function setup() {
    const t = fakeTransport();
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory], releaseDelay: 1000 });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    const unsubscribes = () => t.last.sent.filter((f) => f.type === 'unsubscribe').length;
    return { client, t, unsubscribes };
  }

  it('counts from the last release: release, re-acquire, release waits the whole delay again', async () => {
    const { client, unsubscribes } = await setup();
    client.channel('room').unsubscribe();
    await vi.advanceTimersByTimeAsync(600);
    client.channel('room').unsubscribe(); // re-acquired and released again
    await vi.advanceTimersByTimeAsync(600); // 1,200 ms after the first release, 600 after the last
    expect(unsubscribes()).toBe(0);
    await vi.advanceTimersByTimeAsync(400);
    expect(unsubscribes()).toBe(1);
    client.close();
  });

  it('close() leaves no release timer behind', async () => {
    const { client } = await setup();
    client.channel('room').unsubscribe();
    client.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import { connected, fakeTransport } from './fake-transport';

/**
 * Two properties of `publish` an app relies on without thinking of them, pinned after a change that
 * broke both (found by a review): a publish whose promise the app ignores never surfaces as an
 * unhandled rejection (Node ends the process on one by default), and a publish made from a
 * `pending` listener goes after the publish that fired the event.
 */
describe('publish', () => {
  it('a publish whose promise is ignored is not an unhandled rejection when it fails', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const t = fakeTransport();
      const client = createClient({ url: 'ws://x/tw', transports: [t.factory], backoff: () => 10, maxQueue: 1 });
      void client.publish('room', 'fire and forget'); // e.g. React: onClick={() => publish(x)}
      void client.publish('room', 'refused queue_full');
      client.close();
      await new Promise((r) => setTimeout(r, 20)); // unhandled rejections are reported after a macrotask
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a publish made from a pending listener goes after the one that fired it', async () => {
    vi.useFakeTimers();
    try {
      const t = fakeTransport();
      const client = createClient({ url: 'ws://x/tw', transports: [t.factory], backoff: () => 10 });
      let once = true;
      client.on('pending', () => {
        if (!once) return;
        once = false;
        void client.publish('room', 'B').catch(() => {});
      });
      void client.publish('room', 'A').catch(() => {});
      await vi.advanceTimersByTimeAsync(0);
      t.last.open();
      t.last.push(connected());
      await vi.advanceTimersByTimeAsync(0);
      expect(t.last.sent.flatMap((f) => (f.type === 'publish' ? [f.data] : []))).toEqual(['A', 'B']);
      client.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

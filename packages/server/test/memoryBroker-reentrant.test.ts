import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../src/broker/memoryBroker';

/**
 * A listener may publish into the channel it is being delivered (a bot replying in its room). The
 * memory broker stores synchronously; it must still deliver in offset order to everyone: a nested
 * delivery once gave the listeners after the bot n+1 before n, and every subscriber dropped n.
 */
describe('MemoryBroker delivery while a listener publishes', () => {
  it('gives every listener each message once, in offset order, and resolves each publish with its own offset', async () => {
    const broker = new MemoryBroker();
    const order: string[] = [];
    const replies: Promise<{ offset: number }>[] = [];
    await broker.subscribe('room', undefined, (m) => {
      order.push(`bot:${m.offset}`);
      if (m.data === 'ping') replies.push(broker.publish('room', { id: `pong-${m.offset}`, data: 'pong' }));
    });
    await broker.subscribe('room', undefined, (m) => order.push(`after:${m.offset}`));
    for (let i = 1; i <= 2; i++) await broker.publish('room', { id: `ping-${i}`, data: 'ping' });
    expect(order).toEqual(['bot:1', 'after:1', 'bot:2', 'after:2', 'bot:3', 'after:3', 'bot:4', 'after:4']);
    expect((await Promise.all(replies)).map((r) => r.offset)).toEqual([2, 4]);
    await broker.close();
  });

  it('a chain of replies (each publish answered by another) is delivered in order, after the message that caused it', async () => {
    const broker = new MemoryBroker();
    const seen: number[] = [];
    await broker.subscribe('chain', undefined, (m) => {
      if ((m.data as number) < 5) void broker.publish('chain', { id: `n${m.offset}`, data: (m.data as number) + 1 });
    });
    await broker.subscribe('chain', undefined, (m) => seen.push(m.data as number));
    await broker.publish('chain', { id: 'start', data: 1 });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    await broker.close();
  });

  it('a listener subscribing while replies are queued starts after them: no message twice', async () => {
    const broker = new MemoryBroker();
    const late: number[] = [];
    let subscribed: Promise<{ offset: number }> | undefined;
    await broker.subscribe('q', undefined, (m) => {
      if (m.offset === 1) {
        void broker.publish('q', { id: 'reply', data: 2 }); // queued: delivered after offset 1
        subscribed = broker.subscribe('q', undefined, (n) => late.push(n.offset));
      }
    });
    await broker.publish('q', { id: 'first', data: 1 });
    await broker.publish('q', { id: 'third', data: 3 });
    // Its position covers the queued reply (offset 2): live delivery starts after it.
    expect(await subscribed).toMatchObject({ offset: 2 });
    expect(late).toEqual([3]);
    await broker.close();
  });

  it('an async listener that rejects neither stops the others nor escapes as an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const broker = new MemoryBroker();
      await broker.subscribe('r', undefined, async () => {
        throw new Error('async subscriber failed');
      });
      const watcher = await broker.watchPresence('r', async () => {
        throw new Error('async watcher failed');
      });
      const healthy: number[] = [];
      await broker.subscribe('r', undefined, (m) => healthy.push(m.offset));
      await broker.publish('r', { id: 'a', data: 1 });
      await broker.enterPresence('r', { clientId: 'c', user: null });
      // Rejections nobody handles are reported once the microtasks have run: after a macrotask.
      await new Promise((resolve) => setImmediate(resolve));
      expect(healthy).toEqual([1]);
      expect(unhandled).toEqual([]);
      watcher.unsubscribe();
      await broker.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

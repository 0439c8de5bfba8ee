import { describe, expect, it } from 'vitest';
import type { PresenceEvent } from '../src/broker/broker';
import { MemoryBroker } from '../src/broker/memoryBroker';

describe('MemoryBroker presence', () => {
  it('a watch gets every member at once, then every later change, in order — none from before', async () => {
    const broker = new MemoryBroker();
    await broker.enterPresence('room', { clientId: 'a', user: 'alice' });
    const events: PresenceEvent[] = [];
    const watch = await broker.watchPresence('room', (e) => events.push(e));
    expect(watch.members).toEqual([{ clientId: 'a', user: 'alice' }]);
    await broker.enterPresence('room', { clientId: 'b', user: 'bob', info: { tab: 1 } });
    await broker.enterPresence('room', { clientId: 'b', user: 'bob', info: { tab: 2 } }); // re-enter: replaced, announced again
    await broker.leavePresence('room', 'a');
    await broker.leavePresence('room', 'nobody'); // ignored
    expect(events.map((e) => `${e.action} ${e.member.clientId}`)).toEqual(['join b', 'join b', 'leave a']);
    expect((await broker.watchPresence('room', () => {})).members).toEqual([{ clientId: 'b', user: 'bob', info: { tab: 2 } }]);
    watch.unsubscribe();
    await broker.enterPresence('room', { clientId: 'c', user: 'carol' });
    expect(events).toHaveLength(3); // stopped
    await broker.close();
  });

  it('one throwing watcher does not stop the others', async () => {
    const broker = new MemoryBroker();
    const seen: string[] = [];
    await broker.watchPresence('room', () => {
      throw new Error('broken watcher');
    });
    await broker.watchPresence('room', (e) => seen.push(e.member.clientId));
    await broker.enterPresence('room', { clientId: 'a', user: null });
    expect(seen).toEqual(['a']);
    await broker.close();
  });
});

describe('MemoryBroker history pages', () => {
  async function brokerWith(published: number, size: number) {
    const broker = new MemoryBroker({ history: { size } });
    for (let i = 1; i <= published; i++) await broker.publish('c', { id: `m${i}`, data: i });
    return broker;
  }
  const offsets = (r: { messages: readonly { offset: number }[] }) => r.messages.map((m) => m.offset);

  it('cuts pages newest first and oldest first within exclusive bounds, saying whether more remain', async () => {
    const broker = await brokerWith(12, 10); // stored: 3..12
    expect(offsets(await broker.history('c', { limit: 4, direction: 'backward' }))).toEqual([12, 11, 10, 9]);
    expect(await broker.history('c', { limit: 4, direction: 'backward' })).toMatchObject({ head: 12, more: true });
    expect(offsets(await broker.history('c', { limit: 4, before: 6, direction: 'backward' }))).toEqual([5, 4, 3]);
    expect(await broker.history('c', { limit: 4, before: 6, direction: 'backward' })).toMatchObject({ more: false });
    expect(offsets(await broker.history('c', { limit: 4, direction: 'forward' }))).toEqual([3, 4, 5, 6]);
    expect(offsets(await broker.history('c', { limit: 4, after: 9, direction: 'forward' }))).toEqual([10, 11, 12]);
    expect(await broker.history('c', { limit: 4, after: 12, direction: 'forward' })).toMatchObject({ messages: [], more: false });
    expect(offsets(await broker.history('c', { limit: 10, after: 4, before: 8, direction: 'forward' }))).toEqual([5, 6, 7]);
    expect(await broker.history('c', { limit: 0, direction: 'backward' })).toMatchObject({ messages: [], more: true });
    expect(await broker.history('empty', { limit: 5, direction: 'backward' })).toMatchObject({ messages: [], head: 0, more: false });
    await broker.close();
  });
});

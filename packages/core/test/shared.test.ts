import { describe, expect, it, vi } from 'vitest';
import type { GapInfo } from '../src/channel-state';
import type { HistoryFrame, ServerFrame } from '../src/protocol/frames';
import { createSharedClient } from '../src/shared';
import { connected } from './fake-transport';
import { useSharedTabs } from './shared-tabs-fake';

// The shared connection's logic in Node (shared-tabs-fake.ts).

const setup = useSharedTabs();

describe('one connection shared by tabs', () => {
  it('handles of several tabs share one subscription, released with the last one; every tab gets each message once', async () => {
    const { t, open, subscribes, serve } = setup();
    const a = open();
    const b = open();
    const gotA: number[] = [];
    const gotB: number[] = [];
    const handleA = a.channel<number>('room');
    handleA.on('message', (m) => void gotA.push(m.data));
    const handleB1 = b.channel<number>('room');
    const handleB2 = b.channel<number>('room');
    handleB1.on('message', (m) => void gotB.push(m.data));
    await serve();
    await vi.waitFor(() => expect(subscribes()).toHaveLength(1));
    expect(t.lines).toHaveLength(1); // one connection for both tabs
    const sub = subscribes()[0]!;
    t.last.push({ type: 'subscribed', id: sub.id, channel: 'room', epoch: 'e', offset: 0, recovered: true });
    for (let o = 1; o <= 3; o++) t.last.push({ type: 'message', channel: 'room', epoch: 'e', offset: o, id: `${o}`, data: o });
    await vi.waitFor(() => expect(gotB).toEqual([1, 2, 3]));
    expect(gotA).toEqual([1, 2, 3]);

    handleA.unsubscribe();
    handleB1.unsubscribe();
    await new Promise((r) => setTimeout(r, 50));
    expect(t.last.sent.some((f) => f.type === 'unsubscribe')).toBe(false); // B still holds a handle
    handleB2.unsubscribe();
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'unsubscribe')).toBe(true));
  });

  it('a follower publishes through the leader and gets the ack', async () => {
    const { t, open, serve } = setup();
    const leader = open();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    const follower = open();
    const result = follower.publish('room', 'hi', { id: 'p1' });
    await serve();
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'publish')).toBe(true));
    t.last.push({ type: 'ack', id: 'p1', epoch: 'e', offset: 7 });
    await expect(result).resolves.toMatchObject({ id: 'p1', offset: 7 });
    expect(follower.isLeader).toBe(false);
  });

  it('when the leader closes, the next tab resubscribes from the earliest position the tabs report and re-sends pending publishes', async () => {
    const { t, open, subscribes, serve } = setup();
    const leader = open();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    const follower = open();
    const got: number[] = [];
    follower.channel<number>('room').on('message', (m) => void got.push(m.data));
    await serve();
    await vi.waitFor(() => expect(subscribes()).toHaveLength(1));
    t.last.push({ type: 'subscribed', id: subscribes()[0]!.id, channel: 'room', epoch: 'e', offset: 0, recovered: true });
    for (let o = 1; o <= 2; o++) t.last.push({ type: 'message', channel: 'room', epoch: 'e', offset: o, id: `${o}`, data: o });
    await vi.waitFor(() => expect(got).toEqual([1, 2]));
    const pending = follower.publish('room', 'in flight', { id: 'p2' });
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'publish')).toBe(true));

    const first = t.last;
    leader.close();
    await vi.waitFor(() => expect(follower.isLeader).toBe(true));
    await vi.waitFor(() => expect(t.lines.length).toBe(2));
    expect(first.closedByClient).toBe(true);
    await serve();
    await vi.waitFor(() => expect(subscribes()).toHaveLength(1));
    expect(subscribes()[0]!.since).toEqual({ epoch: 'e', offset: 2 });
    const republished = t.last.sent.find((f) => f.type === 'publish') as { id: string } | undefined;
    expect(republished?.id).toBe('p2');
    t.last.push({ type: 'subscribed', id: subscribes()[0]!.id, channel: 'room', epoch: 'e', offset: 2, recovered: true });
    for (let o = 3; o <= 4; o++) t.last.push({ type: 'message', channel: 'room', epoch: 'e', offset: o, id: `${o}`, data: o });
    t.last.push({ type: 'ack', id: 'p2', epoch: 'e', offset: 5 });
    await expect(pending).resolves.toMatchObject({ offset: 5 });
    await vi.waitFor(() => expect(got).toEqual([1, 2, 3, 4]));
  });

  it('a follower tab that goes away without a word (a crash: no bye) is noticed through its tab lock; its subscription ends', async () => {
    const { t, open, subscribes, serve } = setup();
    const leader = open();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    // A bus that loses the tab's last words, as a crashed tab never says them.
    class Mute extends BroadcastChannel {
      override postMessage(message: { t?: string }): void {
        if (message.t !== 'bye') super.postMessage(message);
      }
    }
    const follower = open({ BroadcastChannel: Mute });
    follower.channel('solo');
    await serve();
    await vi.waitFor(() => expect(subscribes().map((f) => f.channel)).toEqual(['solo']));
    follower.close(); // frees its tab lock; the bye is lost
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'unsubscribe' && f.channel === 'solo')).toBe(true));
  });

  it('a follower back from a freeze asks for what followed its position: it gets every message once, in order, though the bus lost some', async () => {
    const { t, got, gaps, push, freeze, resume, catchUpAsked } = await frozenFollower();
    push(1);
    push(2);
    await vi.waitFor(() => expect(got).toEqual([1, 2]));
    await freeze();
    for (const o of [3, 4, 5]) push(o);
    const ask = await resume();
    push(6); // live while the catch-up is on its way: held back until it came
    expect(ask).toMatchObject({ channel: 'room', after: 2, direction: 'forward' });
    const stored = [3, 4, 5, 6].map((o) => ({ offset: o, id: `${o}`, data: o }));
    t.last.push({ type: 'history_page', id: ask.id, channel: 'room', epoch: 'e', head: 6, messages: stored, more: false });
    await vi.waitFor(() => expect(got).toEqual([1, 2, 3, 4, 5, 6]));
    push(7);
    await vi.waitFor(() => expect(got).toEqual([1, 2, 3, 4, 5, 6, 7]));
    expect(gaps).toEqual([]);
    expect(catchUpAsked()).toBe(1);
  });

  it('a follower away for longer than the catch-up page reads gets the page, then a history_exhausted gap up to where the connection stands, then live', async () => {
    const { t, got, gaps, push, freeze, resume } = await frozenFollower();
    push(1);
    push(2);
    await vi.waitFor(() => expect(got).toEqual([1, 2]));
    await freeze();
    for (let o = 3; o <= 1200; o++) push(o);
    const ask = await resume();
    expect(ask).toMatchObject({ channel: 'room', after: 2, direction: 'forward', limit: 1000 });
    const page = Array.from({ length: 1000 }, (_, i) => ({ offset: 3 + i, id: `${3 + i}`, data: 3 + i }));
    t.last.push({ type: 'history_page', id: ask.id, channel: 'room', epoch: 'e', head: 1200, messages: page, more: true });
    await vi.waitFor(() => expect(gaps).toHaveLength(1));
    expect(gaps).toEqual([{ channel: 'room', reason: 'history_exhausted', from: { epoch: 'e', offset: 1002 }, to: { epoch: 'e', offset: 1200 } }]);
    push(1201);
    await vi.waitFor(() => expect(got.at(-1)).toBe(1201));
    expect(got).toEqual([...Array.from({ length: 1002 }, (_, i) => i + 1), 1201]); // the page, then live: nothing silently skipped
  });

  it('a follower whose absence crossed an epoch change gets an epoch_changed gap, then the new epoch live', async () => {
    const { t, subscribes, room, got, gaps, push, freeze, resume } = await frozenFollower();
    push(1);
    push(2);
    await vi.waitFor(() => expect(got).toEqual([1, 2]));
    await freeze();
    push(3);
    push(1, 'f'); // the server lost the stream: the connection asks again from e:3 and hears it is gone
    await vi.waitFor(() => expect(subscribes()).toHaveLength(2));
    expect(subscribes()[1]!.since).toEqual({ epoch: 'e', offset: 3 });
    t.last.push({ type: 'subscribed', id: subscribes()[1]!.id, channel: 'room', epoch: 'f', offset: 1, recovered: false });
    const ask = await resume();
    t.last.push({ type: 'history_page', id: ask.id, channel: 'room', epoch: 'f', head: 1, messages: [{ offset: 1, id: 'f1', data: 1 }], more: false });
    await vi.waitFor(() => expect(gaps).toHaveLength(1));
    expect(gaps).toEqual([{ channel: 'room', reason: 'epoch_changed', from: { epoch: 'e', offset: 2 }, to: { epoch: 'f', offset: 1 } }]);
    push(2, 'f');
    await vi.waitFor(() => expect(got).toEqual([1, 2, 2]));
    expect(room.position).toEqual({ epoch: 'f', offset: 2 });
  });

  it('refuses what it cannot run with invalid_options: a forced worker without one, no Web Locks without a worker', () => {
    const { t } = setup();
    expect(() => createSharedClient({ url: 'ws://x/tw', mode: 'worker', transports: [t.factory] })).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    expect(() => createSharedClient({ url: 'ws://x/tw', transports: [t.factory] })).toThrow(expect.objectContaining({ code: 'invalid_options' })); // Node has no navigator.locks
  });
});


/**
 * A leader tab and a follower tab subscribed to `room` (at e:0, the server with `history`), the
 * follower's page with Page Lifecycle events of its own and a bus that loses what arrives while it
 * is frozen. `resume()` thaws it and @returns the catch-up's history request the connection sent.
 */
async function frozenFollower() {
  const { t, open, subscribes } = setup();
  const leader = open();
  await vi.waitFor(() => expect(leader.isLeader).toBe(true));
  const page = new EventTarget();
  let frozen = false;
  class Freezable extends BroadcastChannel {
    override set onmessage(listener: (event: MessageEvent) => void) {
      super.onmessage = (event: MessageEvent) => {
        if (!frozen) listener(event);
      };
    }
  }
  const realDocument = (globalThis as { document?: unknown }).document;
  Object.assign(globalThis, { document: page });
  const follower = open({ BroadcastChannel: Freezable });
  Object.assign(globalThis, { document: realDocument });
  const got: number[] = [];
  const gaps: GapInfo[] = [];
  const room = follower.channel<number>('room');
  room.on('message', (m) => void got.push(m.data));
  room.on('gap', (gap) => void gaps.push(gap));
  await vi.waitFor(() => expect(t.lines.length).toBeGreaterThan(0));
  t.last.open();
  t.last.push({ ...connected(), features: ['history'] } as ServerFrame);
  await vi.waitFor(() => expect(subscribes()).toHaveLength(1));
  t.last.push({ type: 'subscribed', id: subscribes()[0]!.id, channel: 'room', epoch: 'e', offset: 0, recovered: true });
  const push = (offset: number, epoch = 'e') => t.last.push({ type: 'message', channel: 'room', epoch, offset, id: `${epoch}${offset}`, data: offset });
  const histories = () => t.last.sent.filter((f): f is HistoryFrame => f.type === 'history');
  /** From now on the follower's bus loses what arrives (after what is on its way got there). */
  const freeze = async () => {
    await new Promise((r) => setTimeout(r, 20));
    frozen = true;
  };
  const resume = async () => {
    await new Promise((r) => setTimeout(r, 50)); // the bus delivered (and the frozen page lost) what was sent
    frozen = false;
    const before = histories().length;
    page.dispatchEvent(new Event('resume'));
    await vi.waitFor(() => expect(histories().length).toBe(before + 1));
    return histories().at(-1)!;
  };
  return { t, subscribes, room, got, gaps, push, freeze, resume, catchUpAsked: () => histories().length };
}

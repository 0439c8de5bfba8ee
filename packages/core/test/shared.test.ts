import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HistoryFrame, ServerFrame, SubscribeFrame } from '../src/protocol/frames';
import { createSharedClient, inProcessLocks } from '../src/shared';
import type { SharedClient } from '../src/shared';
import { connected, fakeTransport } from './fake-transport';

// The shared connection's logic in Node: Node's BroadcastChannel between "tabs" of one process,
// in-process Web Locks (one holder per name, FIFO), and a fake transport played by the test.

const tabs: SharedClient[] = [];
afterEach(() => {
  for (const tab of tabs.splice(0)) tab.close();
});

function setup() {
  const t = fakeTransport('websocket');
  const locks = inProcessLocks();
  const name = `test-${Math.random()}`;
  const open = () => {
    const tab = createSharedClient({ url: 'ws://x/tw', name, locks, transports: [t.factory], takeoverWindow: 50, backoff: () => 10 });
    tabs.push(tab);
    return tab;
  };
  const subscribes = (line = t.last) => line.sent.filter((f): f is SubscribeFrame => f.type === 'subscribe');
  const serve = async () => {
    await vi.waitFor(() => expect(t.lines.length).toBeGreaterThan(0));
    t.last.open();
    t.last.push(connected());
  };
  return { t, open, subscribes, serve, name, locks };
}

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
    const { t, open, subscribes, serve, name, locks } = setup();
    const leader = open();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    // A bus that loses the tab's last words, as a crashed tab never says them.
    class Mute extends BroadcastChannel {
      override postMessage(message: { t?: string }): void {
        if (message.t !== 'bye') super.postMessage(message);
      }
    }
    const follower = createSharedClient({ url: 'ws://x/tw', name, locks, transports: [t.factory], BroadcastChannel: Mute });
    tabs.push(follower);
    follower.channel('solo');
    await serve();
    await vi.waitFor(() => expect(subscribes().map((f) => f.channel)).toEqual(['solo']));
    follower.close(); // frees its tab lock; the bye is lost
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'unsubscribe' && f.channel === 'solo')).toBe(true));
  });

  it('a follower back from a freeze asks for what followed its position: it gets every message once, in order, though the bus lost some', async () => {
    const { t, open, subscribes, name, locks } = setup();
    const leader = open();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    // The follower's page: Page Lifecycle events on a document of its own, and a bus that loses what
    // arrives while the page is frozen.
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
    const follower = createSharedClient({ url: 'ws://x/tw', name, locks, transports: [t.factory], BroadcastChannel: Freezable });
    Object.assign(globalThis, { document: realDocument });
    tabs.push(follower);
    const got: number[] = [];
    follower.channel<number>('room').on('message', (m) => void got.push(m.data));
    await vi.waitFor(() => expect(t.lines.length).toBeGreaterThan(0));
    t.last.open();
    t.last.push({ ...connected(), features: ['history'] } as ServerFrame);
    await vi.waitFor(() => expect(subscribes()).toHaveLength(1));
    t.last.push({ type: 'subscribed', id: subscribes()[0]!.id, channel: 'room', epoch: 'e', offset: 0, recovered: true });
    const push = (o: number) => t.last.push({ type: 'message', channel: 'room', epoch: 'e', offset: o, id: `${o}`, data: o });
    push(1);
    push(2);
    await vi.waitFor(() => expect(got).toEqual([1, 2]));
    frozen = true;
    for (const o of [3, 4, 5]) push(o);
    await new Promise((r) => setTimeout(r, 50)); // the bus delivered (and the frozen page lost) them
    frozen = false;
    page.dispatchEvent(new Event('resume'));
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'history')).toBe(true));
    push(6); // live while the catch-up is on its way: held back until it came
    const ask = t.last.sent.find((f): f is HistoryFrame => f.type === 'history')!;
    expect(ask).toMatchObject({ channel: 'room', after: 2, direction: 'forward' });
    const stored = [3, 4, 5, 6].map((o) => ({ offset: o, id: `${o}`, data: o }));
    t.last.push({ type: 'history_page', id: ask.id, channel: 'room', epoch: 'e', head: 6, messages: stored, more: false });
    await vi.waitFor(() => expect(got).toEqual([1, 2, 3, 4, 5, 6]));
    push(7);
    await vi.waitFor(() => expect(got).toEqual([1, 2, 3, 4, 5, 6, 7]));
  });

  it('refuses what it cannot run with invalid_options: a forced worker without one, no Web Locks without a worker', () => {
    const { t } = setup();
    expect(() => createSharedClient({ url: 'ws://x/tw', mode: 'worker', transports: [t.factory] })).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    expect(() => createSharedClient({ url: 'ws://x/tw', transports: [t.factory] })).toThrow(expect.objectContaining({ code: 'invalid_options' })); // Node has no navigator.locks
  });
});


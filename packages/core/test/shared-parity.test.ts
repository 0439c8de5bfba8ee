import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import { rpc } from '../src/rpc';
import { connected, fakeTransport } from './fake-transport';
import { useSharedTabs } from './shared-tabs-fake';

const setup = useSharedTabs();
const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

const settled = (p: Promise<unknown>) => {
  const s = { done: false as boolean, value: undefined as unknown };
  p.then(
    (v) => Object.assign(s, { done: true, value: v }),
    (e) => Object.assign(s, { done: true, value: e }),
  );
  return s;
};

/**
 * A tab of a shared client behaves as a private client would (docs/shared.md): the same publish id
 * twice joins one publish, a request or `connect()` made before the first tab's election settles is
 * sent once it has, and a throwing `subscribe` listener is isolated. Each case runs beside the
 * private client's reference behaviour.
 */
describe('shared client parity with a private client', () => {
  it('private client (reference): the same id published twice while pending — both promises settle with the ack', async () => {
    const t = fakeTransport();
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory] });
    closers.push(() => client.close());
    const first = settled(client.publish('room', 'hi', { id: 'same' }));
    const second = settled(client.publish('room', 'hi', { id: 'same' }));
    await vi.waitFor(() => expect(t.lines.length).toBe(1));
    t.last.open();
    t.last.push(connected());
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'publish')).toBe(true));
    t.last.push({ type: 'ack', id: 'same', epoch: 'e', offset: 1 });
    await vi.waitFor(() => expect(second.done).toBe(true));
    await vi.waitFor(() => expect(first.done).toBe(true));
    expect(first.value).toMatchObject({ offset: 1 });
  });

  it.each([['leader'], ['follower']])('shared client (%s tab): the same id published twice while pending — both promises settle with the ack', async (who) => {
    const { t, open, serve } = setup();
    const leader = open();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    const follower = open();
    const tab = who === 'leader' ? leader : follower;
    const first = settled(tab.publish('room', 'hi', { id: 'same' }));
    const second = settled(tab.publish('room', 'hi', { id: 'same' }));
    await serve();
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'publish')).toBe(true));
    t.last.push({ type: 'ack', id: 'same', epoch: 'e', offset: 1 });
    await vi.waitFor(() => expect(second.done).toBe(true));
    await vi.waitFor(() => expect(first.done).toBe(true));
    expect(first.value).toMatchObject({ offset: 1 });
  });

  it('private client (reference): connect() right after creation opens the connection', async () => {
    const t = fakeTransport();
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory] });
    closers.push(() => client.close());
    client.connect();
    await vi.waitFor(() => expect(t.lines.length).toBe(1));
    expect(client.getSnapshot().state).toBe('connecting');
  });

  it.each([['first (future leader)'], ['second (follower)']])('shared client: connect() right after creation opens the connection — %s tab', async (which) => {
    const { t, open } = setup();
    const first = open();
    if (which.startsWith('first')) {
      first.connect();
    } else {
      await vi.waitFor(() => expect(first.isLeader).toBe(true));
      const second = open();
      second.connect();
    }
    await vi.waitFor(() => expect(t.lines.length).toBe(1));
  });

  it('a throwing subscribe() listener in a follower tab does not stop the other listeners or the state event (a private client isolates it)', async () => {
    const uncaught: unknown[] = [];
    // A bus that records what its onmessage handler throws (a browser reports it to window.onerror).
    class Catching extends BroadcastChannel {
      override set onmessage(fn: ((ev: MessageEvent) => unknown) | null) {
        super.onmessage = fn
          ? (ev: MessageEvent) => {
              try {
                fn.call(this, ev);
              } catch (error) {
                uncaught.push(error);
              }
            }
          : null;
      }
      override get onmessage() {
        return super.onmessage;
      }
    }
    const { t, open } = setup({ BroadcastChannel: Catching });
    const leader = open();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    const follower = open();
    const heard: string[] = [];
    const states: string[] = [];
    follower.subscribe(() => {
      throw new Error('app listener bug');
    });
    follower.subscribe(() => heard.push(follower.getSnapshot().state));
    follower.on('state', ({ to }) => states.push(to.state));
    follower.connect();
    leader.connect();
    await vi.waitFor(() => expect(t.lines.length).toBe(1));
    t.last.open();
    t.last.push(connected());
    await vi.waitFor(() => expect(leader.getSnapshot().state).toBe('connected'));
    await vi.waitFor(() => expect(follower.getSnapshot().state).toBe('connected'));
    expect({ heard, states, uncaught: uncaught.length }).toEqual({ heard: ['connecting', 'connected'], states: ['connecting', 'connected'], uncaught: 0 });
  });

  it.each([['a private client (reference)'], ['a shared client: the first tab, before its election settles']])('an rpc made right after creating %s is sent once and answered, not rejected interrupted', async (which) => {
    const shared = which.startsWith('a shared');
    const t = shared ? undefined : fakeTransport();
    const tabs = shared ? setup() : undefined;
    const line = () => (t ?? tabs!.t).last;
    const client = t ? createClient({ url: 'ws://x/tw', transports: [t.factory] }) : tabs!.open();
    closers.push(() => client.close());
    const answer = settled(rpc(client, 'hello', { x: 1 }));
    client.connect();
    await vi.waitFor(() => expect((t ?? tabs!.t).lines.length).toBe(1));
    line().open();
    line().push(connected());
    await vi.waitFor(() => expect(line().sent.some((f) => f.type === 'rpc')).toBe(true));
    const frame = line().sent.find((f) => f.type === 'rpc') as { id: string };
    line().push({ type: 'result', id: frame.id, data: 'hi' });
    await vi.waitFor(() => expect(answer.done).toBe(true));
    expect(answer.value).toBe('hi');
    expect(line().sent.filter((f) => f.type === 'rpc')).toHaveLength(1);
  });
});

import { describe, expect, it, vi } from 'vitest';
import type { TidewireError } from '../src/errors';
import { connected } from './fake-transport';
import { useSharedTabs } from './shared-tabs-fake';

const setup = useSharedTabs();

/**
 * More of shared tabs behaving as a private client (docs/shared.md), on the leader's side too: what
 * the leader broadcasts crosses as JSON when structured clone refuses it (shared-messages.ts
 * `postClonable`); the same id pending for another channel is refused `bad_request`; a membership
 * `authorize` refused is not entered again by the next holder (shared-tab-presence.ts).
 */
describe('a leader-tab publish of data structured clone refuses', () => {
  it('the pending publish is listed and no error is reported', async () => {
    const { open } = setup();
    const leader = open();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    const follower = open();
    const errors: TidewireError[] = [];
    leader.on('error', (e) => errors.push(e));
    follower.on('error', (e) => errors.push(e));
    await new Promise((r) => setTimeout(r, 100)); // past the takeover window
    const draft = new Proxy({ text: 'hello' }, {}); // what Vue's reactive() returns
    leader.publish('room', draft).catch(() => {});
    await vi.waitFor(() => expect(follower.listPendingPublishes().map((p) => p.channel)).toEqual(['room']));
    expect(leader.listPendingPublishes().map((p) => p.channel)).toEqual(['room']);
    expect(errors.map((e) => `${e.code}: ${e.message}`)).toEqual([]);
  });
});

describe('a shared tab, the same publish id for another channel while pending', () => {
  it.each([['leader'], ['follower']])('%s tab rejects it bad_request like a private client', async (who) => {
    const { open, t } = setup();
    const leader = open();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    const follower = open();
    const tab = who === 'leader' ? leader : follower;
    tab.publish('a', 1, { id: 'same' }).catch(() => {});
    const other = tab.publish('b', 2, { id: 'same' }).then((ack) => ({ resolved: ack }), (e: TidewireError) => ({ rejected: e.code }));
    await vi.waitFor(() => expect(t.lines.length).toBe(1));
    t.last.open();
    t.last.push(connected());
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'publish')).toBe(true));
    t.last.push({ type: 'ack', id: 'same', epoch: 'e', offset: 7 });
    // Only one publish (to 'a') ever went out, yet the publish to 'b' resolves with its ack.
    expect(t.last.sent.filter((f) => f.type === 'publish').map((f) => (f as { channel: string }).channel)).toEqual(['a']);
    expect(await other).toEqual({ rejected: 'bad_request' });
  }, 5000);
});

describe('a shared tab, a refused enter and a takeover', () => {
  it('the new holder does not enter again on its own', async () => {
    const { open, t } = setup();
    const leader = open();
    await vi.waitFor(() => expect(leader.isLeader).toBe(true));
    const follower = open();
    await new Promise((r) => setTimeout(r, 100)); // past the takeover window
    const entered = follower.channel('admins').presence.enter({ name: 'me' }).then(() => 'entered', (e: TidewireError) => e.code);
    await vi.waitFor(() => expect(t.lines.length).toBe(1));
    t.last.open();
    t.last.push({ ...connected(), features: ['presence'] } as never);
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'enter')).toBe(true));
    const enter = t.last.sent.find((f) => f.type === 'enter') as { id: string };
    t.last.push({ type: 'error', id: enter.id, code: 'forbidden', message: 'no' } as never);
    expect(await entered).toBe('forbidden');

    leader.close(); // the follower takes over
    await vi.waitFor(() => expect(follower.isLeader).toBe(true));
    await vi.waitFor(() => expect(t.lines.length).toBe(2));
    t.last.open();
    t.last.push({ ...connected(), features: ['presence'] } as never);
    // The takeover's announce resubscribes the tab's channel; an entry would be sent with it.
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'subscribe' && f.channel === 'admins')).toBe(true));
    expect(t.last.sent.filter((f) => f.type === 'enter')).toEqual([]);
  });
});

describe('a shared tab, a membership the server ends (left) and a takeover', () => {
  it.each([['leader'], ['follower']])('the %s tab forgets it: told on error, and the new holder does not enter again', async (who) => {
    const { open, t } = setup();
    const first = open();
    await vi.waitFor(() => expect(first.isLeader).toBe(true));
    const second = open();
    await new Promise((r) => setTimeout(r, 100)); // past the takeover window
    const tab = who === 'leader' ? first : second;
    const errors: TidewireError[] = [];
    second.on('error', (e) => errors.push(e));
    const entered = tab.channel('room').presence.enter({ name: 'me' });
    await vi.waitFor(() => expect(t.lines.length).toBe(1));
    t.last.open();
    t.last.push({ ...connected(), features: ['presence', 'presence_end'] } as never);
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'enter')).toBe(true));
    const enter = t.last.sent.find((f) => f.type === 'enter') as { id: string };
    t.last.push({ type: 'entered', id: enter.id, channel: 'room' } as never);
    await entered;
    t.last.push({ type: 'left', channel: 'room', code: 'forbidden', message: 'the refresh took enter away' } as never);
    await vi.waitFor(() => expect(errors.map((e) => [e.code, e.context.presence, e.context.channel])).toEqual([['forbidden', 'left', 'room']]));

    // A new line: after a takeover (the follower's case) or a drop (the leader's, which holds on).
    if (who === 'follower') first.close();
    else t.last.drop();
    await vi.waitFor(() => expect(t.lines.length).toBe(2));
    t.last.open();
    t.last.push({ ...connected(), features: ['presence', 'presence_end'] } as never);
    // The tab's channel is subscribed again on the new line; an entry would be sent with it.
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'subscribe' && f.channel === 'room')).toBe(true));
    expect(t.last.sent.filter((f) => f.type === 'enter')).toEqual([]);
    // Asked anew, it enters again.
    const again = tab.channel('room').presence.enter({ name: 'me' });
    await vi.waitFor(() => expect(t.last.sent.filter((f) => f.type === 'enter')).toHaveLength(1));
    const next = t.last.sent.find((f) => f.type === 'enter') as { id: string };
    t.last.push({ type: 'entered', id: next.id, channel: 'room' } as never);
    await again;
  });
});

import { describe, expect, it } from 'vitest';
import type { PresenceMember } from '@tidewire/core/protocol';
import type { PresenceEvent } from '@tidewire/server';
import { decodeChange, PresenceFeed, type PresenceSnapshot, type VersionedChange } from '../src/presenceFeed';

/**
 * PresenceFeed without Redis: the snapshot source is a function the test controls, so the races
 * (changes before, during and after a snapshot read; holes; a counter that restarted) are exact.
 */
const m = (clientId: string, info?: unknown): PresenceMember => ({ clientId, user: null, ...(info !== undefined && { info }) });
const join = (version: number, member: PresenceMember, incarnation = 'I'): VersionedChange => ({ incarnation, version, event: { action: 'join', member } });
const leave = (version: number, member: PresenceMember, incarnation = 'I'): VersionedChange => ({ incarnation, version, event: { action: 'leave', member } });

/** One macrotask: a re-read starts on the feed's chain, after the current one. */
const tick = () => new Promise((r) => setTimeout(r, 1));

/** A feed whose reads wait until the test answers them. */
function controlledFeed() {
  const reads: ((snapshot: PresenceSnapshot) => void)[] = [];
  const feed = new PresenceFeed(() => new Promise((resolve) => reads.push(resolve)));
  const answer = async (snapshot: PresenceSnapshot) => {
    while (reads.length === 0) await new Promise((r) => setTimeout(r, 1));
    reads.shift()!(snapshot);
    await new Promise((r) => setTimeout(r, 1));
  };
  return { feed, answer, pendingReads: () => reads.length };
}

const describeEvents = (events: PresenceEvent[]) => events.map((e) => `${e.action} ${e.member.clientId}`);

describe('PresenceFeed', () => {
  it('applies changes that arrived while the first snapshot was read only if the snapshot lacks them', async () => {
    const { feed, answer } = controlledFeed();
    feed.change(join(1, m('a'))); // already in the snapshot below
    feed.change(join(2, m('b'))); // published after the snapshot was read
    await answer({ incarnation: 'I', version: 1, members: [m('a')] });
    await feed.started();
    const events: PresenceEvent[] = [];
    const watch = feed.watch((e) => events.push(e));
    expect(watch.members.map((x) => x.clientId).sort()).toEqual(['a', 'b']);
    feed.change(leave(3, m('a')));
    expect(describeEvents(events)).toEqual(['leave a']);
  });

  it('re-reads on a hole and reports the difference as joins and leaves, once each', async () => {
    const { feed, answer } = controlledFeed();
    await answer({ incarnation: 'I', version: 2, members: [m('a'), m('b', 1)] });
    await feed.started();
    const events: PresenceEvent[] = [];
    feed.watch((e) => events.push(e));
    feed.change(join(5, m('d'))); // 3 and 4 were lost
    feed.change(join(6, m('e'))); // waits for the re-read
    expect(events).toEqual([]);
    await answer({ incarnation: 'I', version: 5, members: [m('b', 2), m('c'), m('d')] }); // a left, b changed, c and d came
    expect(describeEvents(events)).toEqual(['leave a', 'join b', 'join c', 'join d', 'join e']);
    expect(events[1]!.member).toEqual(m('b', 2));
    feed.change(leave(7, m('c')));
    expect(describeEvents(events).at(-1)).toBe('leave c');
  });

  it('a periodic check re-reads only when Redis is at another version, including a counter that restarted', async () => {
    const { feed, answer, pendingReads } = controlledFeed();
    await answer({ incarnation: 'I', version: 4, members: [m('a')] });
    await feed.started();
    const events: PresenceEvent[] = [];
    feed.watch((e) => events.push(e));
    await feed.check('I', 4);
    expect(pendingReads()).toBe(0);
    const checked = feed.check('', 0); // the keys expired and came back empty
    await answer({ incarnation: '', version: 0, members: [] });
    await checked;
    expect(describeEvents(events)).toEqual(['leave a']);
    feed.change(join(1, m('z'), 'J')); // the restarted counter's first change: a new incarnation, read
    await tick();
    expect(pendingReads()).toBe(1);
    await answer({ incarnation: 'J', version: 1, members: [m('z')] });
    expect(describeEvents(events)).toEqual(['leave a', 'join z']);
    feed.change(join(2, m('y'), 'J')); // then its next versions apply directly
    expect(describeEvents(events)).toEqual(['leave a', 'join z', 'join y']);
    expect(pendingReads()).toBe(0);
  });

  it('the same version number of another incarnation (keys lost, counter restarted) is never taken as equal', async () => {
    const { feed, answer, pendingReads } = controlledFeed();
    await answer({ incarnation: 'I', version: 1, members: [m('alice')] });
    await feed.started();
    const events: PresenceEvent[] = [];
    feed.watch((e) => events.push(e));
    // A periodic check finds version 1 again, of a new incarnation: re-read.
    const checked = feed.check('J', 1);
    await tick();
    expect(pendingReads()).toBe(1);
    await answer({ incarnation: 'J', version: 1, members: [m('bob')] });
    await checked;
    expect(describeEvents(events)).toEqual(['leave alice', 'join bob']);
    // A change numbered as our next one but of another incarnation (another keyspace, or a newer
    // loss) is not applied: it makes the feed read Redis instead.
    feed.change(join(2, m('mallory'), 'K'));
    await tick();
    expect(pendingReads()).toBe(1);
    await answer({ incarnation: 'J', version: 1, members: [m('bob')] });
    expect(describeEvents(events)).toEqual(['leave alice', 'join bob']);
  });

  it('resync() re-reads even when the versions agree', async () => {
    const { feed, answer, pendingReads } = controlledFeed();
    await answer({ incarnation: 'I', version: 3, members: [m('a')] });
    await feed.started();
    const events: PresenceEvent[] = [];
    feed.watch((e) => events.push(e));
    const resynced = feed.resync();
    await tick();
    expect(pendingReads()).toBe(1);
    await answer({ incarnation: 'I', version: 3, members: [m('a'), m('b')] });
    await resynced;
    expect(describeEvents(events)).toEqual(['join b']);
  });

  it('a failed first read rejects started(); a watcher that throws does not stop the others', async () => {
    const failing = new PresenceFeed(() => Promise.reject(new Error('Redis away')));
    await expect(failing.started()).rejects.toThrow('Redis away');

    const { feed, answer } = controlledFeed();
    await answer({ incarnation: 'I', version: 0, members: [] });
    const seen: string[] = [];
    feed.watch(() => {
      throw new Error('broken watcher');
    });
    const watch = feed.watch((e) => seen.push(e.member.clientId));
    feed.change(join(1, m('a')));
    watch.unsubscribe();
    feed.change(join(2, m('b')));
    expect(seen).toEqual(['a']);
  });

  it('drops a join of a member listed with the same content and a leave of one not listed, yet moves to their versions', async () => {
    const { feed, answer, pendingReads } = controlledFeed();
    await answer({ incarnation: 'I', version: 1, members: [m('a', { tab: 1 })] });
    await feed.started();
    const events: PresenceEvent[] = [];
    feed.watch((e) => events.push(e));
    feed.change(join(2, m('a', { tab: 1 }))); // unchanged: nothing to tell
    feed.change(leave(3, m('ghost'))); // never listed: nothing to tell
    feed.change(join(4, m('a', { tab: 2 }))); // the next version after both: applied, no re-read
    expect(pendingReads()).toBe(0);
    expect(events).toEqual([{ action: 'join', member: m('a', { tab: 2 }) }]);
    await feed.check('I', 4);
    expect(pendingReads()).toBe(0);
  });

  it('decodes `<incarnation>:<version>:<j|l>:<member JSON>` and ignores anything else', () => {
    expect(decodeChange('I:7:j:{"clientId":"a","user":"alice"}')).toEqual(join(7, { clientId: 'a', user: 'alice' }));
    expect(decodeChange('I:8:l:{"clientId":"a","user":null}')).toEqual(leave(8, m('a')));
    const bad = ['', 'I:x:j:{}', 'I:1:q:{}', 'I:1:j:not json', 'I:1:j', ':1:j:{"clientId":"a","user":1}', 'I::j:{"clientId":"a","user":1}', '1:j:{"clientId":"a","user":1}'];
    for (const payload of bad) expect(decodeChange(payload)).toBeUndefined();
  });
});

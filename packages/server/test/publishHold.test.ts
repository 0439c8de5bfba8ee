import { describe, expect, it } from 'vitest';
import type { PublishFrame } from '@tidewire/core/protocol';
import { PublishHold } from '../src/publishHold';

const publish = (id: string): PublishFrame => ({ type: 'publish', id, channel: 'room', data: id });

describe('PublishHold', () => {
  it('holds back what arrived after a refused publish until it comes back, not what arrived before', () => {
    const hold = new PublishHold();
    const [a, b, c] = [publish('a'), publish('b'), publish('c')];
    for (const f of [a, b, c]) hold.arrive(f);
    hold.refused(b, 500, 1000);
    expect(hold.wait(a, 1000)).toBe(0); // sent before b
    expect(hold.wait(c, 1100)).toBe(400); // sent after b: waits what is left of b's retryAfter
    const [c2, b2] = [publish('c'), publish('b')];
    hold.arrive(c2);
    expect(hold.wait(c2, 1600)).toBe(1); // b has not come back yet: still held
    hold.arrive(b2);
    expect(hold.wait(b2, 1700)).toBe(0); // b is back: the hold ends
    const c3 = publish('c');
    hold.arrive(c3);
    expect(hold.wait(c3, 1700)).toBe(0);
  });

  it('without hooks (refusals only at arrival) records arrivals only while a hold is on, with the same outcome', () => {
    const hold = new PublishHold(false);
    const [a, b, c, d] = [publish('a'), publish('b'), publish('c'), publish('d')];
    hold.arrive(a); // queued behind a slow request: handled after the refusal below
    hold.arrive(b);
    hold.refused(b, 500, 1000); // the frame-rate limit, as b arrives
    hold.arrive(c);
    hold.arrive(d);
    expect(hold.wait(a, 1000)).toBe(0); // arrived before b: never held
    expect(hold.wait(c, 1100)).toBe(400);
    expect(hold.wait(d, 1200)).toBe(300);
    const b2 = publish('b');
    hold.arrive(b2);
    expect(hold.wait(b2, 1600)).toBe(0); // b is back: the hold ends
    const e = publish('e');
    hold.arrive(e);
    expect(hold.wait(e, 1600)).toBe(0);
  });

  it('lapses when the refused publish never comes back', () => {
    const hold = new PublishHold();
    const [a, b] = [publish('a'), publish('b')];
    hold.arrive(a);
    hold.arrive(b);
    hold.refused(a, 100, 0);
    expect(hold.wait(b, 50)).toBe(50);
    const late = publish('late');
    hold.arrive(late);
    expect(hold.wait(late, 60_000)).toBe(0);
  });

  it('keeps the earliest refused publish when a later one is refused too', () => {
    const hold = new PublishHold();
    const [a, b, c] = [publish('a'), publish('b'), publish('c')];
    for (const f of [a, b, c]) hold.arrive(f);
    hold.refused(a, 100, 0);
    hold.refused(c, 300, 10);
    expect(hold.wait(b, 20)).toBe(290); // held until the later end, behind a
    const a2 = publish('a');
    hold.arrive(a2);
    expect(hold.wait(a2, 400)).toBe(0);
  });

  it('ignores frames that are not publishes', () => {
    const hold = new PublishHold();
    const sub = { type: 'subscribe', id: 's', channel: 'room' } as const;
    const a = publish('a');
    hold.arrive(a);
    hold.arrive(sub);
    hold.refused(sub, 1000, 0);
    expect(hold.wait(a, 1)).toBe(0);
  });
});

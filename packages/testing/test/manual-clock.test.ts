import { describe, expect, it } from 'vitest';
import { ManualClock, TestKitError } from '../src/index';
import { nextMacrotask } from '../src/wire';

/** A clock with no network: settling is one macrotask. */
const makeClock = (start = 1_000) => new ManualClock(start, () => new Promise<void>((r) => nextMacrotask(r)), (fn) => nextMacrotask(fn));

describe('ManualClock', () => {
  it('fires timers only when advanced, in due order, same-instant ones in the order set', async () => {
    const clock = makeClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 100);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 200);
    await clock.advance(99);
    expect(fired).toEqual([]);
    expect(clock.now()).toBe(1_099);
    await clock.advance(101);
    expect(fired).toEqual(['a@1100', 'b@1200', 'c@1200']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs timers set by timers when they fall due within the same advance', async () => {
    const clock = makeClock(0);
    const fired: number[] = [];
    const tick = (): void => {
      fired.push(clock.now());
      clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    await clock.advance(35);
    expect(fired).toEqual([10, 20, 30]);
    expect(clock.now()).toBe(35);
  });

  it('clearTimeout cancels; unknown handles are ignored', async () => {
    const clock = makeClock();
    let fired = 0;
    const handle = clock.setTimeout(() => fired++, 5);
    clock.clearTimeout(handle);
    clock.clearTimeout({});
    clock.clearTimeout(undefined);
    await clock.advance(10);
    expect(fired).toBe(0);
  });

  it('fires timers already due by itself, without advancing', async () => {
    const clock = makeClock();
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(0), 0);
    clock.setTimeout(() => fired.push(-1), -5);
    clock.setTimeout(() => fired.push(Number.NaN), Number.NaN);
    await new Promise<void>((r) => nextMacrotask(r));
    expect(fired).toEqual([0, -1, Number.NaN]);
    expect(clock.now()).toBe(1_000);
  });

  it('next() jumps to the next timer; runAll() stops at the last timer pending when called, so a repeating timer cannot loop forever', async () => {
    const clock = makeClock(0);
    const fired: number[] = [];
    const repeat = (): void => {
      fired.push(clock.now());
      clock.setTimeout(repeat, 1000);
    };
    clock.setTimeout(repeat, 1000);
    clock.setTimeout(() => fired.push(-clock.now()), 3500);
    expect(await clock.next()).toBe(true);
    expect(fired).toEqual([1000]);
    await clock.runAll();
    expect(fired).toEqual([1000, 2000, 3000, -3500]);
    expect(clock.now()).toBe(3500);
    clock.clearTimeout(undefined);
  });

  it('next() reports false when nothing is pending; Infinity never fires', async () => {
    const clock = makeClock();
    clock.setTimeout(() => {
      throw new Error('never');
    }, Infinity);
    expect(await clock.next()).toBe(false);
    await clock.runAll();
    expect(clock.now()).toBe(1_000);
  });

  it('advanceUntil fires timers until the condition holds and reports the time it took', async () => {
    const clock = makeClock(0);
    let done = false;
    clock.setTimeout(() => void 0, 300);
    clock.setTimeout(() => (done = true), 700);
    clock.setTimeout(() => void 0, 900);
    expect(await clock.advanceUntil(() => done)).toBe(700);
    expect(clock.pendingTimers).toBe(1);
    await expect(clock.advanceUntil(() => false, 10_000)).rejects.toMatchObject({ code: 'not_settled' });
    expect(clock.now()).toBe(700 + 10_000); // the limit counts from where the call started
  });

  it('refuses negative and non-finite steps', async () => {
    const clock = makeClock();
    await expect(clock.advance(-1)).rejects.toBeInstanceOf(TestKitError);
    await expect(clock.advance(Number.NaN)).rejects.toMatchObject({ code: 'invalid_options' });
    await expect(clock.advance(Infinity)).rejects.toMatchObject({ code: 'invalid_options' });
  });
});

import { describe, expect, it } from 'vitest';
import { RequestQueue } from '../src/requestQueue';

/** Flush every pending microtask and promise job. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('RequestQueue', () => {
  it('starts a task at once when nothing runs, and stays idle after a synchronous one', () => {
    const queue = new RequestQueue(10, () => {});
    const ran: number[] = [];
    queue.push(() => void ran.push(1));
    expect(ran).toEqual([1]); // in the caller's step: no promise in between
    queue.push(() => void ran.push(2));
    expect(ran).toEqual([1, 2]);
  });

  it('runs tasks one at a time in push order while one is pending', async () => {
    const queue = new RequestQueue(10, () => {});
    const log: string[] = [];
    let release!: () => void;
    queue.push(() => {
      log.push('a start');
      return new Promise<void>((resolve) => (release = resolve)).then(() => void log.push('a end'));
    });
    queue.push(() => void log.push('b'));
    queue.push(async () => {
      log.push('c start');
      await settle();
      log.push('c end');
    });
    queue.push(() => void log.push('d'));
    await settle();
    expect(log).toEqual(['a start']);
    release();
    await settle();
    await settle();
    expect(log).toEqual(['a start', 'a end', 'b', 'c start', 'c end', 'd']);
    // Idle again: the next task starts at once.
    queue.push(() => void log.push('e'));
    expect(log.at(-1)).toBe('e');
  });

  it('runs a task pushed from inside a starting task after that task, not inside it', async () => {
    const queue = new RequestQueue(10, () => {});
    const log: string[] = [];
    let release!: () => void;
    queue.push(() => {
      log.push('outer start');
      queue.push(() => void log.push('inner'));
      log.push('outer sync end');
      return new Promise<void>((resolve) => (release = resolve)).then(() => void log.push('outer end'));
    });
    queue.push(() => void log.push('after'));
    await settle();
    expect(log).toEqual(['outer start', 'outer sync end']);
    release();
    await settle();
    expect(log).toEqual(['outer start', 'outer sync end', 'outer end', 'inner', 'after']);
  });

  it('reports thrown and rejected errors and goes on with the next task', async () => {
    const errors: unknown[] = [];
    const queue = new RequestQueue(10, (e) => errors.push(e));
    const ran: string[] = [];
    queue.push(() => {
      throw new Error('sync');
    });
    queue.push(() => Promise.reject(new Error('async')));
    queue.push(() => void ran.push('next'));
    await settle();
    expect(errors.map((e) => (e as Error).message)).toEqual(['sync', 'async']);
    expect(ran).toEqual(['next']);
  });

  it('refuses a task once max tasks wait behind a pending one', async () => {
    const queue = new RequestQueue(2, () => {});
    let release!: () => void;
    queue.push(() => new Promise<void>((resolve) => (release = resolve)));
    expect(queue.push(() => {})).toBe(true);
    expect(queue.push(() => {})).toBe(true);
    expect(queue.push(() => {})).toBe(false);
    release();
    await settle();
    expect(queue.push(() => {})).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { callApp, guardLogger, syncPredicate } from '../src/appCall';

/** Resolves after a macrotask: by then an unhandled rejection has been reported. */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Collects `unhandledRejection`s while `body` runs. */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await body();
    await settled();
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return unhandled;
}

describe('callApp', () => {
  it('reports a sync throw and an async rejection alike, and lets neither escape', async () => {
    const failures: unknown[] = [];
    const unhandled = await unhandledDuring(async () => {
      callApp(() => {
        throw new Error('sync');
      }, (e) => failures.push((e as Error).message));
      callApp(async () => {
        throw new Error('async');
      }, (e) => failures.push((e as Error).message));
      callApp(() => ({ then: () => { throw new Error('hostile then'); } }), (e) => failures.push((e as Error).message));
      callApp(() => 'fine', (e) => failures.push(e));
    });
    expect(failures.sort()).toEqual(['async', 'hostile then', 'sync']);
    expect(unhandled).toEqual([]);
  });

  it('a reporter that throws is dropped, not thrown into the caller', async () => {
    const unhandled = await unhandledDuring(async () => {
      expect(() => callApp(() => Promise.reject(new Error('x')), () => { throw new Error('reporter'); })).not.toThrow();
    });
    expect(unhandled).toEqual([]);
  });
});

describe('guardLogger', () => {
  it('an async logger that rejects neither throws nor leaves an unhandled rejection', async () => {
    const logger = guardLogger({ warn: async () => { throw new Error('down'); }, error: () => { throw new Error('down'); } });
    const original = console.error;
    console.error = () => {}; // the guard's last resort; not what this test reads
    try {
      const unhandled = await unhandledDuring(async () => {
        logger.warn('w');
        logger.error('e');
      });
      expect(unhandled).toEqual([]);
    } finally {
      console.error = original;
    }
  });
});

describe('syncPredicate', () => {
  it('passes a sync answer through, refuses a promise (fail closed) and logs the misuse once and each rejection', async () => {
    const logged: string[] = [];
    const logger = { warn: () => {}, error: (m: string) => void logged.push(m) };
    const sync = syncPredicate('isChannel()', (name: string) => name === 'ok', logger);
    expect([sync('ok'), sync('no')]).toEqual([true, false]);
    const asyncYes = syncPredicate('isChannel()', (async () => true) as unknown as (name: string) => boolean, logger);
    expect(asyncYes('a')).toBe(false);
    const asyncNo = syncPredicate('isChannel()', (async () => Promise.reject(new Error('db down'))) as unknown as (name: string) => boolean, logger);
    const unhandled = await unhandledDuring(async () => {
      expect(asyncNo('a')).toBe(false);
      expect(asyncNo('b')).toBe(false);
    });
    expect(unhandled).toEqual([]);
    expect(logged.filter((m) => m.includes('must answer synchronously'))).toHaveLength(2); // once per predicate
    expect(logged.filter((m) => m.includes('rejected'))).toHaveLength(2);
  });
});

import { describe, expect, it } from 'vitest';
import { afterBurst } from '../src/afterBurst';

describe('afterBurst', () => {
  it('runs queued tasks once the synchronous burst is over, in order; tasks queued meanwhile run in the next burst', async () => {
    const log: string[] = [];
    afterBurst(() => {
      log.push('a');
      afterBurst(() => log.push('c'));
    });
    afterBurst(() => log.push('b'));
    log.push('sync');
    await Promise.resolve();
    await Promise.resolve();
    expect(log).toEqual(['sync', 'a', 'b', 'c']);
  });

});

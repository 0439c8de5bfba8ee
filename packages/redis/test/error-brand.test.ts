import { expect, it } from 'vitest';
import * as errors from '../src/errors';

/** As for the server's errors (server/test/second-copy.test.ts): the ESM and the CommonJS build of `@tidewire/redis` side by side. */
it('isRedisBrokerError recognises an error of another copy of the package, both ways, and refuses look-alikes', async () => {
  const specifier: string = '../src/errors?second-copy'; // Vite loads the file again as a distinct module
  const other = (await import(/* @vite-ignore */ specifier)) as typeof errors;
  expect(new other.RedisBrokerError('closed', 'x') instanceof errors.RedisBrokerError).toBe(false);
  expect(errors.isRedisBrokerError(new other.RedisBrokerError('broker_unavailable', 'x', { retryAfter: 100 }))).toBe(true);
  expect(other.isRedisBrokerError(new errors.RedisBrokerError('closed', 'x'))).toBe(true);
  for (const value of [new Error('x'), Object.assign(new Error('x'), { code: 'closed' }), { code: 'broker_failed' }, null]) {
    expect(errors.isRedisBrokerError(value)).toBe(false);
  }
});

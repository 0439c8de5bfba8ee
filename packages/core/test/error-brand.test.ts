import { describe, expect, it } from 'vitest';
import * as errors from '../src/errors';

/** A second, independent copy of the errors module — what two installed versions of core give an app. */
async function secondCopy(): Promise<typeof errors> {
  // The query string makes Vite load the file again as a distinct module with its own classes.
  const specifier: string = '../src/errors?second-copy';
  return (await import(/* @vite-ignore */ specifier)) as typeof errors;
}

describe('isTidewireError across copies of core', () => {
  it('the second copy really has other classes: instanceof alone would say no', async () => {
    const other = await secondCopy();
    expect(other.TidewireError).not.toBe(errors.TidewireError);
    expect(new other.TidewireError('timeout', 'x') instanceof errors.TidewireError).toBe(false);
  });

  it('recognises every error class of the other copy, both ways', async () => {
    const other = await secondCopy();
    for (const Class of [other.TidewireError, other.RequestError, other.TimeoutError, other.ConnectionError, other.ProtocolError, other.ValidationError]) {
      const error = new Class('timeout', 'from the other copy');
      expect(errors.isTidewireError(error)).toBe(true);
    }
    expect(other.isTidewireError(new errors.RequestError('forbidden', 'x'))).toBe(true);
  });

  it('refuses look-alikes: plain errors, objects with a code, null, primitives', () => {
    const lookAlike = Object.assign(new Error('x'), { name: 'TidewireError', code: 'timeout' });
    for (const value of [new Error('x'), lookAlike, { code: 'timeout' }, null, undefined, 'timeout', 42]) {
      expect(errors.isTidewireError(value)).toBe(false);
    }
  });

  it('keeps the brand off the instance (on the shared prototype, not enumerable): logs and equality stay as they were', () => {
    const error = new errors.TimeoutError('timeout', 'x', { context: { channel: 'c' } });
    expect(Object.getOwnPropertySymbols(error)).toEqual([]);
    expect(Object.keys(error)).not.toContain('tidewire.error');
    expect(Object.getOwnPropertyDescriptor(errors.TidewireError.prototype, Symbol.for('tidewire.error'))).toMatchObject({ value: true, enumerable: false });
  });
});

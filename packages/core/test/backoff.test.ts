import { describe, expect, it } from 'vitest';
import { exponentialBackoff } from '../src/backoff';

describe('exponentialBackoff', () => {
  it('grows exponentially under full jitter and respects the cap', () => {
    const max = exponentialBackoff({ base: 100, max: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6].map(max)).toEqual([99, 199, 399, 799, 999, 999]);
    const min = exponentialBackoff({ base: 100, max: 1000, random: () => 0 });
    expect([1, 5, 20].map(min)).toEqual([0, 0, 0]);
  });

  it('spreads a crowd of clients across the whole window', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const delays = Array.from({ length: 1000 }, () => exponentialBackoff({ base: 1000, random })(1));
    expect(Math.min(...delays)).toBeLessThan(50);
    expect(Math.max(...delays)).toBeGreaterThan(950);
  });
});

import { describe, expect, it } from 'vitest';
import { nextMessageId } from '../src/messageId';

describe('nextMessageId', () => {
  it('makes 21-character URL-safe ids, all different, across many refills of its random pool', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const id = nextMessageId();
      expect(id).toMatch(/^[A-Za-z0-9_-]{21}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(5000);
  });

  it('uses every character of the alphabet in every position (no fixed or biased position)', () => {
    const seen = Array.from({ length: 21 }, () => new Set<string>());
    for (let i = 0; i < 4000; i++) [...nextMessageId()].forEach((c, at) => seen[at]!.add(c));
    for (const position of seen) expect(position.size).toBe(64);
  });
});

import { describe, expect, it } from 'vitest';
import { readCookie } from '../../../examples/dm-inbox/dm-server';

describe('examples/dm-inbox readCookie', () => {
  it('reads one cookie among others, with = in its value', () => {
    expect(readCookie('a=1; dm_session=Ada.x%3Dy=z; b=2', 'dm_session')).toBe('Ada.x=y=z');
  });
  it('is undefined when the header or the cookie is missing', () => {
    expect(readCookie(undefined, 'dm_session')).toBeUndefined();
    expect(readCookie('a=1', 'dm_session')).toBeUndefined();
  });
  it('treats a malformed %-escape as no login instead of throwing', () => {
    expect(readCookie('dm_session=%E0%A4%A', 'dm_session')).toBeUndefined();
  });
});

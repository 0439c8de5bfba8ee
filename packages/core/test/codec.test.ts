import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeServerFrame, encodeFrame, fitsByteLimit } from '../src/protocol/codec';

describe('frame codec', () => {
  it('round-trips every valid server frame', () => {
    const frames = [
      { type: 'connected', v: 1, session: 's', heartbeat: 25000, maxPayload: 65536 },
      { type: 'subscribed', id: 's1', channel: 'a', epoch: 'e', offset: 0, recovered: true },
      { type: 'message', channel: 'a', epoch: 'e', offset: 1, id: 'm', data: null },
      { type: 'ack', id: 'm', epoch: 'e', offset: 1 },
      { type: 'error', id: 'm', code: 'forbidden', message: 'no' },
      { type: 'close', code: 'going_away', message: 'bye', retryAfter: 100 },
      { type: 'ping' },
    ] as const;
    for (const frame of frames) expect(decodeServerFrame(encodeFrame(frame))).toEqual({ ok: true, frame });
  });

  it.each([
    ['not json', '{'],
    ['not an object', '[1]'],
    ['unknown type', '{"type":"nope"}'],
    ['missing field', '{"type":"ack","id":"x","epoch":"e"}'],
    ['negative offset', '{"type":"ack","id":"x","epoch":"e","offset":-1}'],
    ['fractional offset', '{"type":"ack","id":"x","epoch":"e","offset":1.5}'],
    ['unknown error code', '{"type":"error","code":"boom","message":"x"}'],
    ['message without data', '{"type":"message","channel":"a","epoch":"e","offset":1,"id":"m"}'],
  ])('rejects %s with a reason, never throws', (_, text) => {
    const result = decodeServerFrame(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/\w/);
  });

  it('validates client frames, including optional recovery positions', () => {
    expect(decodeClientFrame('{"type":"subscribe","id":"1","channel":"a","since":{"epoch":"e","offset":3}}').ok).toBe(true);
    expect(decodeClientFrame('{"type":"subscribe","id":"1","channel":"a","since":{"epoch":"e"}}').ok).toBe(false);
    expect(decodeClientFrame(42).ok).toBe(false);
  });

  it('measures UTF-8 size only when it could exceed the limit', () => {
    expect(fitsByteLimit('abc', 3)).toBe(true);
    expect(fitsByteLimit('€€', 5)).toBe(false); // 6 bytes
    expect(fitsByteLimit('€€', 6)).toBe(true);
    expect(fitsByteLimit('😀', 3)).toBe(false); // 4 bytes
    expect(fitsByteLimit('😀', 4)).toBe(true);
    expect(fitsByteLimit('\ud83d', 2)).toBe(false); // a lone surrogate goes out as U+FFFD: 3 bytes
    expect(fitsByteLimit('\ud83d', 3)).toBe(true);
  });
});

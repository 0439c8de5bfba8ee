import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binary, fromBase64, isBytesEnvelope, toBase64 } from '../src/binary';

describe('binary codec', () => {
  it('base64 is standard (Buffer agrees) and round-trips every length and byte, across chunk boundaries', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), (bytes) => {
        const text = toBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(Buffer.from(fromBase64(text)).equals(bytes)).toBe(true);
      }),
      { numRuns: 60 },
    );
    expect(toBase64(new Uint8Array(0))).toBe('');
    expect(fromBase64('')).toEqual(new Uint8Array(0));
  });

  it('encodes Uint8Array, ArrayBuffer and views (only the viewed bytes) to the envelope; leaves JSON alone', () => {
    const codec = binary();
    expect(codec.encode(Uint8Array.of(1, 2, 3))).toEqual({ $b64: 'AQID' });
    expect(codec.encode(Uint8Array.of(1, 2, 3).buffer)).toEqual({ $b64: 'AQID' });
    expect(codec.encode(new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4))).toEqual({ $b64: 'AQID' });
    expect(codec.encode(new DataView(Uint8Array.of(0, 1, 2, 3).buffer, 1))).toEqual({ $b64: 'AQID' });
    for (const plain of [null, 1, 'AQID', [1, 2], { a: 1 }, { $b64: 'AQID' }]) expect(codec.encode(plain)).toBe(plain);
  });

  it('reads a Blob asynchronously', async () => {
    const encoded = binary().encode(new Blob([Uint8Array.of(1, 2, 3)]));
    expect(encoded).toBeInstanceOf(Promise);
    expect(await encoded).toEqual({ $b64: 'AQID' });
  });

  it('decodes exactly the envelope; anything else, and an envelope that is not base64, is delivered as it came', () => {
    const codec = binary();
    expect(codec.decode({ $b64: 'AQID' })).toEqual(Uint8Array.of(1, 2, 3));
    const notBase64 = { $b64: '***' };
    expect(codec.decode(notBase64)).toBe(notBase64);
    for (const other of [{ $b64: 'AQID', extra: 1 }, { $b64: 5 }, ['$b64'], 'AQID', null, { b64: 'AQID' }]) {
      expect(isBytesEnvelope(other)).toBe(false);
      expect(codec.decode(other)).toBe(other);
    }
  });
});

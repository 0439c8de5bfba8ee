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

  it('a SharedArrayBuffer and a view of one are bytes like an ArrayBuffer', () => {
    const buffer = new SharedArrayBuffer(4);
    new Uint8Array(buffer).set([9, 1, 2, 3]);
    expect(binary().encode(buffer)).toEqual({ $b64: 'CQECAw==' });
    expect(binary().encode(new Uint8Array(buffer, 1))).toEqual({ $b64: 'AQID' });
  });

  it('encodes bytes nested in plain objects and arrays, decodes them back in place; copies nothing that holds no bytes', () => {
    const codec = binary();
    const when = new Date(0);
    const encoded = codec.encode({ name: 'a', bytes: Uint8Array.of(1, 2, 3), list: [Uint8Array.of(1, 2, 3).buffer, 'x'], when });
    expect(encoded).toEqual({ name: 'a', bytes: { $b64: 'AQID' }, list: [{ $b64: 'AQID' }, 'x'], when });
    expect(codec.decode(JSON.parse(JSON.stringify(encoded)))).toEqual({ name: 'a', bytes: Uint8Array.of(1, 2, 3), list: [Uint8Array.of(1, 2, 3), 'x'], when: when.toJSON() });
    const plain = { a: [1, { b: 'c' }], d: null };
    expect(codec.encode(plain)).toBe(plain);
    expect(codec.decode(plain)).toBe(plain);
  });

  it('refuses bad_request, as a rejected promise, data nesting bytes past 62 containers, cyclic data and a nested Blob', async () => {
    const codec = binary();
    let deep: unknown = Uint8Array.of(1);
    for (let i = 0; i < 62; i++) deep = [deep];
    expect(codec.encode(deep)).not.toBeInstanceOf(Promise); // 62 containers: its envelope is at the frame's level 64, the server's maxDepth
    await expect(codec.encode([deep])).rejects.toMatchObject({ code: 'bad_request' });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(codec.encode(cyclic)).rejects.toMatchObject({ code: 'bad_request' });
    await expect(codec.encode({ file: new Blob(['x']) })).rejects.toMatchObject({ code: 'bad_request', message: expect.stringMatching(/Blob/) });
  });
});

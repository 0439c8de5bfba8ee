import { decode, ExtensionCodec } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { isBytesEnvelope } from '../src/binary-base64';
import { msgpack, msgpackBytes } from '../src/msgpack';

describe('msgpack() codec', () => {
  const codec = msgpack();

  it('encodes any value to one MessagePack document in the bytes envelope, and back', () => {
    const value = { a: [1, 'two', null], when: new Date(0), bytes: Uint8Array.of(1, 2), nested: { deep: true } };
    const encoded = codec.encode(value);
    expect(isBytesEnvelope(encoded)).toBe(true);
    expect(codec.decode(encoded)).toEqual(value);
    expect(encoded).toEqual({ $b64: Buffer.from(msgpackBytes(value)).toString('base64') });
  });

  it('sends a top-level ArrayBuffer or Blob as its bytes', async () => {
    expect(codec.decode(codec.encode(Uint8Array.of(5, 6).buffer))).toEqual(Uint8Array.of(5, 6));
    const blob = codec.encode(new Blob([Uint8Array.of(7)]));
    expect(blob).toBeInstanceOf(Promise);
    expect(codec.decode(await blob)).toEqual(Uint8Array.of(7));
  });

  it('leaves an envelope (encoded already) as it is, and delivers what is not MessagePack as it came', () => {
    const envelope = { $b64: 'xAED' };
    expect(codec.encode(envelope)).toBe(envelope);
    for (const plain of [{ json: 1 }, 'text', null, { $b64: '!!!' }, { $b64: '' }]) expect(codec.decode(plain)).toEqual(plain);
  });

  it('refuses what MessagePack cannot encode with a rejected bad_request, not a throw', async () => {
    await expect(codec.encode({ f: () => 1 })).rejects.toMatchObject({ name: 'TidewireError', code: 'bad_request' });
  });

  it('refuses a Map or a Set anywhere in the data (the library would send {}), unless the app gives an extensionCodec', async () => {
    for (const value of [new Map([['a', 1]]), new Set([1]), { nested: [new Map()] }, [{ deep: { s: new Set(['x']) } }]]) {
      await expect(codec.encode(value)).rejects.toMatchObject({ code: 'bad_request', cause: { message: expect.stringMatching(/(Map|Set) has no MessagePack form/) } });
    }
    expect(() => msgpackBytes(new Map())).toThrow(TypeError);
    // The app's own extension codec decides: here it sends a Map as its entries.
    const extensionCodec = new ExtensionCodec();
    extensionCodec.register({ type: 1, encode: (v) => (v instanceof Map ? msgpackBytes([...v]) : null), decode: (d) => new Map(decode(d) as [unknown, unknown][]) });
    const withMaps = msgpack({ encoder: { extensionCodec }, decoder: { extensionCodec } });
    expect(withMaps.decode(withMaps.encode({ m: new Map([['a', 1]]) }))).toEqual({ m: new Map([['a', 1]]) });
  });
});

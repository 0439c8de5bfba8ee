import { describe, expect, it } from 'vitest';
import { PublishRefusal, RpcError, bytesOf, createServer } from '../src/index';

describe('rpc and onPublish options', () => {
  it('accepts handlers and { handler, input?, output? }; refuses anything else as invalid_options', () => {
    expect(() => createServer({ rpc: { a: () => 1, b: { handler: () => 2 } }, onPublish: () => undefined })).not.toThrow();
    for (const rpc of [{ a: 1 }, { a: { input: {} } }, 'nope', null]) {
      expect(() => createServer({ rpc } as never)).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    }
    expect(() => createServer({ onPublish: 'x' } as never)).toThrow(expect.objectContaining({ code: 'invalid_options' }));
  });

  it('RpcError codes are 1–64 characters of [A-Za-z0-9_.:-]; PublishRefusal defaults to forbidden', () => {
    expect(new RpcError('insufficient_funds', 'no')).toMatchObject({ code: 'insufficient_funds', message: 'no', name: 'RpcError' });
    for (const bad of ['', 'has space', 'x'.repeat(65), 'ü']) expect(() => new RpcError(bad, 'm')).toThrow(TypeError);
    expect(new PublishRefusal('no links')).toMatchObject({ code: 'forbidden', message: 'no links' });
    expect(new PublishRefusal('bad', 'bad_request').code).toBe('bad_request');
  });

  it('bytesOf reads exactly the bytes envelope', () => {
    expect(bytesOf({ $b64: 'AQID' })).toEqual(Buffer.from([1, 2, 3]));
    for (const other of [{ $b64: 'AQID', x: 1 }, { $b64: 1 }, 'AQID', null, [1]]) expect(bytesOf(other)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { ConnectionError, ProtocolError, RequestError, TidewireError, TimeoutError, ValidationError } from '../src/errors';
import { fromWire, toWire } from '../src/shared-messages';

// Errors cross postMessage as plain data (a cloned Error loses its class): what a tab rebuilds.
describe('errors between the holder of a shared connection and its tabs', () => {
  it.each([RequestError, TimeoutError, ConnectionError, ProtocolError, ValidationError, TidewireError])('a %o arrives as its own class, with code, message and context', (ErrorClass) => {
    const sent = new ErrorClass('rate_limited', 'slow down', { context: { id: 'p1', retryAfter: 150 } });
    const wire = structuredClone(toWire(sent)); // as postMessage carries it
    const got = fromWire(wire);
    expect(got).toBeInstanceOf(ErrorClass);
    expect(got).toMatchObject({ name: sent.name, code: 'rate_limited', message: 'slow down', context: { id: 'p1', retryAfter: 150 } });
  });

  it('a class the tab does not rebuild, or a name that is no class of ours, arrives as a TidewireError', () => {
    for (const name of ['RpcError', 'constructor', '__proto__', 'toString', undefined]) {
      const got = fromWire({ name, code: 'rpc_error', message: 'no', context: { appCode: 'x' } });
      expect(got.constructor).toBe(TidewireError);
      expect(got).toMatchObject({ code: 'rpc_error', message: 'no', context: { appCode: 'x' } });
    }
  });

  it('a context that cannot be cloned stays behind; the rest crosses', () => {
    const wire = toWire(new RequestError('server_error', 'oops', { context: { callback: () => {} } }));
    expect(structuredClone(wire)).toEqual({ name: 'RequestError', code: 'server_error', message: 'oops' });
  });
});

import { describe, expect, it } from 'vitest';
import { createClient } from '../src/client';
import type { ClientOptions } from '../src/client-options';
import { isolatedBackoff } from '../src/backoff';
import type { TidewireError } from '../src/errors';
import { createSharedClient } from '../src/shared';
import { websocket } from '../src/transports/websocket';
import { sse } from '../src/transports/sse';

/**
 * The fault kind: an option the client cannot work with. Each fails at `createClient` with
 * `invalid_options` naming it, instead of a client that never connects, rejects every publish,
 * re-sends a subscribe forever or reconnects forever to a scheme no transport speaks.
 */
function refusal(options: Partial<ClientOptions>): TidewireError | undefined {
  try {
    createClient({ url: 'ws://x/tw', ...options } as ClientOptions).close();
    return undefined;
  } catch (error) {
    return error as TidewireError;
  }
}

describe('createClient refuses options it could not work with', () => {
  const durations = ['connectTimeout', 'publishTimeout', 'queueTimeout', 'subscribeTimeout', 'maxQueue'] as const;
  it.each(durations.flatMap((name) => [0, -1, Number.NaN, '5000'].map((value) => [name, value] as const)))('%s: %s', (name, value) => {
    const error = refusal({ [name]: value });
    expect(error).toMatchObject({ code: 'invalid_options', context: { [name]: value } });
    expect(error!.message).toContain(name);
  });

  it.each([
    ['reorderWindow', -1],
    ['releaseDelay', Number.NaN],
  ] as const)('%s: %s', (name, value) => {
    expect(refusal({ [name]: value })).toMatchObject({ code: 'invalid_options' });
  });

  it.each([
    ['upgradeDelay', 0],
    ['upgradeDelay', Number.NaN],
    ['fallbackAfter', 0],
    ['stickyFor', -1],
    ['raceAfter', -1],
  ] as const)('fallback %s: %s', (name, value) => {
    expect(refusal({ transports: [websocket(), sse()], [name]: value })).toMatchObject({ code: 'invalid_options', context: { [name]: value } });
  });

  it('accepts what the docs allow: Infinity for a deadline, 0 for a window or a delay, raceAfter false', () => {
    expect(refusal({ queueTimeout: Number.POSITIVE_INFINITY, publishTimeout: 1, reorderWindow: 0, releaseDelay: 0 })).toBeUndefined();
    expect(refusal({ transports: [websocket(), sse()], raceAfter: false, stickyFor: 0, upgradeDelay: 1 })).toBeUndefined();
  });

  it('several transports with no fallback transport among them', () => {
    expect(refusal({ transports: [websocket(), websocket()] })).toMatchObject({ code: 'invalid_options' });
  });

  it('createSharedClient refuses them at once, not in whichever tab leads later', () => {
    expect(() => createSharedClient({ url: 'ws://x/tw', connectTimeout: 0 })).toThrow(/connectTimeout/);
    expect(() => createSharedClient({ url: 'ws://x/tw', transports: [] })).toThrow(/transports/);
  });

  it.each(['ftp://x/tw', 'file:///tmp/tw', 'mailto:a@b'])('a url no transport speaks: %s', (url) => {
    expect(refusal({ url })).toMatchObject({ code: 'invalid_options', context: { url } });
  });

  it('an empty transports list', () => {
    expect(refusal({ transports: [] })).toMatchObject({ code: 'invalid_options' });
  });
});

describe('a backoff answering a delay no timer can honour falls back to the default', () => {
  it.each([Number.POSITIVE_INFINITY, Number.NaN, -1])('%s', (answer) => {
    const backoff = isolatedBackoff(() => answer, () => {});
    const delay = backoff(3);
    expect(Number.isFinite(delay)).toBe(true);
    expect(delay).toBeGreaterThanOrEqual(0);
  });
});

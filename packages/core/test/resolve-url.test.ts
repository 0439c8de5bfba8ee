import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, isTidewireError, websocket } from '../src/index';
import { longpoll } from '../src/transports/longpoll';
import { sse } from '../src/transports/sse';
import { resolveUrl } from '../src/resolve-url';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('resolveUrl', () => {
  it('keeps absolute URLs of every scheme as they are', () => {
    for (const url of ['wss://example.com/tidewire', 'ws://127.0.0.1:8080/tw', 'https://example.com/a?b=1', 'http://[::1]:9/x']) {
      expect(resolveUrl(url, undefined)).toBe(new URL(url).href);
    }
  });

  it('resolves path-absolute, path-relative and protocol-relative URLs against the base', () => {
    const page = 'https://app.example/chat/room?x=1';
    expect(resolveUrl('/tidewire', page)).toBe('https://app.example/tidewire');
    expect(resolveUrl('tidewire', page)).toBe('https://app.example/chat/tidewire');
    expect(resolveUrl('//rt.example/tidewire', page)).toBe('https://rt.example/tidewire');
  });

  it('throws invalid_options, naming the url, when a relative url has no base', () => {
    const error = catchError(() => resolveUrl('/tidewire', undefined));
    expect(isTidewireError(error) && error.code).toBe('invalid_options');
    expect((error as Error).message).toContain('"/tidewire"');
    expect((error as Error).message).toMatch(/absolute URL/);
  });

  it('throws invalid_options where the base cannot anchor a path (about:blank)', () => {
    expect(isTidewireError(catchError(() => resolveUrl('/tidewire', 'about:blank')))).toBe(true);
  });
});

describe('createClient with a relative url', () => {
  it('in Node (no page): throws invalid_options at once, not a silent failed state later', () => {
    expect(globalThis.location).toBeUndefined();
    const error = catchError(() => createClient({ url: '/tidewire' }));
    expect(isTidewireError(error) && error.code).toBe('invalid_options');
  });

  it('in a page: resolves against location, for WebSocket and both HTTP transports alike', async () => {
    vi.stubGlobal('location', new URL('https://app.example/some/page'));
    const seen: string[] = [];
    class RecordingWebSocket {
      readonly readyState = 0;
      readonly bufferedAmount = 0;
      onopen = null;
      onmessage = null;
      onclose = null;
      onerror = null;
      constructor(url: string) {
        seen.push(url);
      }
      send(): void {}
      close(): void {}
    }
    // A fetch that records where it was sent and never answers: enough to see the address.
    const fetch = (input: RequestInfo | URL): Promise<Response> => {
      seen.push(String(input instanceof Request ? input.url : input).split('?')[0]!.replace(/\/(sse|poll|longpoll|send)$/, '/…'));
      return new Promise(() => {});
    };
    for (const transports of [[websocket()], [sse()], [longpoll()]]) {
      seen.length = 0;
      const client = createClient({ url: '/tidewire', WebSocket: RecordingWebSocket, fetch, transports });
      client.connect();
      await vi.waitFor(() => expect(seen.length).toBeGreaterThan(0), { timeout: 5000 });
      expect(seen[0]).toMatch(/^(wss:\/\/app\.example\/tidewire|https:\/\/app\.example\/tidewire(\/…)?)$/);
      client.close();
    }
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

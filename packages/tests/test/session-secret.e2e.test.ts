import { describe, expect, it } from 'vitest';
import type { TransportFactory } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { startServer, until } from './helpers/servers';

/**
 * HTTP-transport sessions are bound to a secret: the real client proves it on every request
 * after the first, and someone who read the sid from a request log gets nothing.
 */

const transports: [string, 'sse' | 'poll', () => TransportFactory][] = [
  ['sse', 'sse', () => sse()],
  ['longpoll', 'poll', () => longpoll()],
];

const AUTHS = [
  { name: 'bearer', token: 'alice' as string | undefined },
  { name: 'anonymous', token: undefined },
];

describe.each(transports)('the real client over %s', (_name, kind, transport) => {
  it.each(AUTHS)('$name: works end to end while a request with its sid but without the secret is refused', async ({ token }) => {
    await using t = await startServer(
      {
        logger: { warn: () => {}, error: () => {} },
        authenticate: ({ token: given }) => (given === token ? { user: given ?? 'anon' } : null),
      },
      { transports: [transport()], ...(token !== undefined && { getToken: () => token }) },
    );
    const client = t.client();
    const got: unknown[] = [];
    const ch = client.channel('inbox');
    ch.on('message', (m) => got.push(m.data));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');
    await ch.publish('one');
    await until(() => got.length === 1, 'round trip');

    // What a log reader sees: the sid in a URL (and here even the Authorization header).
    const logged = t.requests.find((r) => r.url.includes('sid='))!;
    expect(logged).toBeDefined();
    const sid = new URL(logged.url, 'http://x').searchParams.get('sid')!;
    const base = t.url.replace(/^ws:/, 'http:');
    const headers = { ...(logged.authorization !== undefined && { authorization: logged.authorization }) };
    const stolen = await fetch(`${base}/${kind}?sid=${sid}`, {
      method: 'POST',
      headers,
      body: JSON.stringify([JSON.stringify({ type: 'subscribe', id: 'theirs', channel: 'other' })]),
    });
    expect(stolen.status).toBe(403);
    if (kind === 'poll') expect((await fetch(`${base}/poll?sid=${sid}&ack=0`, { headers })).status).toBe(403);
    expect((await fetch(`${base}/${kind}?sid=${sid}`, { method: 'DELETE', headers })).status).toBe(403);

    // The owner's session is untouched: same line, still delivering.
    await ch.publish('two');
    await until(() => got.length === 2, 'still delivering');
    expect(got).toEqual(['one', 'two']);
    expect(client.getSnapshot().state).toBe('connected');
  });
});

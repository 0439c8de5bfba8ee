import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createClient, type TransportFactory } from '@tidewire/core';
import { eventsource } from '@tidewire/core/eventsource';
import { EventSource } from 'eventsource';
import { httpFront, listening, type HttpFront } from './helpers/http-front';
import { httpTransports } from './helpers/transports';
import { startServer, until } from './helpers/servers';

/**
 * The protocol has no redirects, and an HTTP transport that followed one would re-send the session's
 * secret, its id and (in the upstream POST) the connect frame's token to wherever it points. A
 * redirect — on the stream, the polls or the POSTs — is refused with its status, and the other
 * origin hears nothing.
 */
const transports: [string, () => TransportFactory][] = [...httpTransports, ['eventsource', () => eventsource({ EventSource })]];

/** Another origin that records every request it gets (and answers 500). */
async function elsewhere(): Promise<HttpFront & { readonly heard: IncomingMessage[] }> {
  const heard: IncomingMessage[] = [];
  const server = await listening((req, res) => {
    heard.push(req);
    req.resume();
    res.writeHead(500).end();
  });
  return Object.assign(server, { heard });
}

/** A proxy in front of `target` answering the requests `redirected` picks with `status` to `to` (same path). */
const front = (target: string, to: string, status: number, redirected: (req: IncomingMessage) => boolean) =>
  httpFront(target, (req, res) => {
    if (!redirected(req)) return false;
    req.resume();
    res.writeHead(status, { location: to + req.url }).end();
    return true;
  });

describe.each(transports)('a redirect is never followed over %s', (_, transport) => {
  it.each([
    ['the upstream POSTs (307: the body would go along)', 307, (req: IncomingMessage) => req.method === 'POST'],
    ['every request (302)', 302, () => true],
  ])('on %s: the other origin hears nothing, and the error names the redirect', async (_what, status, redirected) => {
    await using t = await startServer({ logger: { warn: () => {}, error: () => {} } });
    await using other = await elsewhere();
    await using proxy = await front(t.url.replace(/^ws/, 'http'), other.url, status, redirected);
    const client = createClient({ url: proxy.url, transports: [transport()], getToken: () => 'TOKEN-SECRET', backoff: () => 50 });
    try {
      client.connect();
      // Several attempts, each refused: none reaches the other origin.
      await until(() => {
        const s = client.getSnapshot();
        return s.state === 'reconnecting' && s.attempt >= 3;
      }, 'three refused attempts');
      expect(other.heard).toEqual([]);
      expect(client.getSnapshot().state).not.toBe('connected');
      // The snapshot's error says which step failed; its cause (or its cause's) says why.
      const reasons: string[] = [];
      for (let e: unknown = client.getSnapshot().error; e instanceof Error && reasons.length < 5; e = e.cause) reasons.push(e.message);
      expect(reasons.join(' ← ')).toMatch(/redirect/);
    } finally {
      client.close();
    }
  });
});

import type { CloseCode } from '@tidewire/core';
import { createServer, type Link } from '@tidewire/server';
import { describe, expect, it } from 'vitest';
import { inProcessRequest } from '../src/index';
import { eventually } from './helpers';

/** A hand-made line: what the session sent, and how it ended. */
function recordingLink(): Link & { sent: Record<string, unknown>[]; closed: { code: CloseCode; message: string }[] } {
  const sent: Record<string, unknown>[] = [];
  const closed: { code: CloseCode; message: string }[] = [];
  return {
    sent,
    closed,
    send: (text) => void sent.push(JSON.parse(text) as Record<string, unknown>),
    close: (code, message) => void closed.push({ code, message }),
    bufferedBytes: () => 0,
  };
}

describe('server.connectInProcess: the hook the kit is built on', () => {
  it('runs the real session: hooks see the request, frames are answered, close() tells it going_away, stats count it', async () => {
    const seen: unknown[] = [];
    const server = createServer({ authenticate: ({ token, request }) => (seen.push([token, request.headers['x-test']]), { user: token }) });
    const link = recordingLink();
    const session = server.connectInProcess(link, inProcessRequest('/tidewire', { 'X-Test': 'yes' }));
    expect(server.stats().sessions).toBe(1);
    session.receive(JSON.stringify({ type: 'connect', v: 1, token: 'alice' }));
    await eventually(() => expect(link.sent[0]).toMatchObject({ type: 'connected', v: 1 }));
    expect(seen).toEqual([['alice', 'yes']]);
    session.receive(JSON.stringify({ type: 'publish', id: 'p1', channel: 'room', data: 1 }));
    await eventually(() => expect(link.sent[1]).toMatchObject({ type: 'ack', id: 'p1', offset: 1 }));
    await server.close();
    expect(link.closed).toEqual([{ code: 'going_away', message: 'server shutting down' }]);
    expect(server.stats().sessions).toBe(0);
    expect(() => server.connectInProcess(recordingLink(), inProcessRequest())).toThrow(expect.objectContaining({ code: 'closed' }));
  });

  it('linkClosed() ends the session without sending anything', async () => {
    const server = createServer();
    const link = recordingLink();
    const session = server.connectInProcess(link, inProcessRequest());
    session.receive(JSON.stringify({ type: 'connect', v: 1 }));
    await eventually(() => expect(link.sent).toHaveLength(1));
    session.linkClosed();
    expect(server.stats().sessions).toBe(0);
    session.receive(JSON.stringify({ type: 'publish', id: 'p1', channel: 'room', data: 1 }));
    await server.close();
    expect(link.sent).toHaveLength(1);
    expect(link.closed).toEqual([]);
  });
});

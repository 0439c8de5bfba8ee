import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { ChannelMessage, GapInfo, TidewireError } from '@tidewire/core';
import { startServer, until } from './helpers/servers';
import { injectedWebSocket, useGlobalWebSocket } from './helpers/env';
import { createClient } from '@tidewire/core';

// This file runs twice in CI: on Node 20 with `ws` injected, and on Node 22 with the global WebSocket
// (so does transports.e2e.test.ts, which has the plain publish/ack round trip for every transport).
describe(`client ↔ real server over WebSocket (${useGlobalWebSocket ? 'global WebSocket' : 'ws injected'})`, () => {
  it('uses the runtime WebSocket on Node 22+, and explains how to inject one where there is none', async () => {
    if (useGlobalWebSocket) {
      expect(typeof globalThis.WebSocket).toBe('function');
      expect(injectedWebSocket).toBeUndefined();
      return;
    }
    const client = createClient({ url: 'ws://127.0.0.1:9/none' });
    if (typeof globalThis.WebSocket === 'function') return; // Node 22+ without TIDEWIRE_WS=global: nothing to prove here
    client.connect();
    await until(() => client.getSnapshot().state === 'failed', 'failed');
    expect(client.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'transport_error' } });
    expect(client.getSnapshot().error?.message).toMatch(/pass it: createClient\(\{ url, WebSocket \}\)/);
  });

  it('refuses an unauthorized subscribe with a typed error and keeps the connection', async () => {
    await using t = await startServer({
      authenticate: ({ token }) => (token ? { user: token } : null),
      authorize: ({ user, channel }) => channel !== 'secret' || user === 'admin',
    });
    const client = t.client({ token: 'guest' });
    const errors: TidewireError[] = [];
    const secret = client.channel('secret');
    secret.on('error', (e) => errors.push(e));
    await until(() => errors.length === 1, 'refusal');
    expect(errors[0]).toMatchObject({ name: 'RequestError', code: 'forbidden' });
    expect(secret.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'forbidden' } });
    await expect(client.publish('open', 1)).resolves.toMatchObject({ offset: 1 });
    expect(client.getSnapshot().state).toBe('connected');
  });

  it('fails for good with `unauthorized` when the server refuses the token (no retry loop)', async () => {
    await using t = await startServer({ authenticate: ({ token }) => (token === 'good' ? { user: 'u' } : null) });
    const client = t.client({ token: 'bad' });
    client.connect();
    await until(() => client.getSnapshot().state === 'failed', 'failed');
    expect(client.getSnapshot().error).toMatchObject({ code: 'unauthorized' });
  });

  it('refreshes an expiring token in-band, without reconnecting', async () => {
    let issued = 0;
    await using t = await startServer({
      // 3 s: the refresh goes out at 80% of it, leaving 600 ms for the round trip on a loaded machine.
      authenticate: ({ token }) => (token?.startsWith('tok') ? { user: 'u', expiresAt: Date.now() + 3_000 } : null),
    });
    const client = t.client({ getToken: () => `tok${++issued}` });
    const states: string[] = [];
    client.on('state', ({ to }) => states.push(to.state));
    client.connect();
    const firstExpiry = Date.now() + 3_000; // no earlier than the first token's real expiry
    await until(() => issued >= 2, 'a refresh', 10_000);
    await until(() => Date.now() > firstExpiry + 200, "past the first token's expiry", 10_000);
    expect(client.getSnapshot().state).toBe('connected');
    expect(states).toEqual(['connecting', 'connected']);
  });

  it('answers a malformed client frame with bad_request and keeps the connection', async () => {
    await using t = await startServer();
    const { default: WS } = await import('ws');
    const raw = new WS(t.url);
    const frames: { type: string; code?: string }[] = [];
    raw.on('message', (d) => frames.push(JSON.parse(String(d))));
    await new Promise((r) => raw.once('open', r));
    raw.send(JSON.stringify({ type: 'connect', v: 1 }));
    raw.send('{not json');
    raw.send(JSON.stringify({ type: 'ping' }));
    await until(() => frames.some((f) => f.type === 'pong'), 'pong after the bad frame');
    expect(frames.find((f) => f.type === 'error')).toMatchObject({ code: 'bad_request' });
    raw.close();
  });

  it('reports a malformed server frame as a typed ProtocolError and keeps going', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (socket) => {
      socket.on('message', (d) => {
        if (JSON.parse(String(d)).type !== 'connect') return;
        socket.send(JSON.stringify({ type: 'connected', v: 1, session: 's', heartbeat: 30000, maxPayload: 65536 }));
        socket.send('{"type":"message","channel":42}');
        socket.send('garbage');
        socket.send(JSON.stringify({ type: 'ping' }));
      });
    });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    const client = createClient({ url: `ws://127.0.0.1:${port}`, WebSocket: injectedWebSocket });
    const errors: TidewireError[] = [];
    client.on('error', (e) => errors.push(e));
    client.connect();
    await until(() => errors.length === 2, 'two protocol errors');
    expect(errors.map((e) => [e.name, e.code])).toEqual([
      ['ProtocolError', 'invalid_frame'],
      ['ProtocolError', 'invalid_frame'],
    ]);
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
    await new Promise((r) => wss.close(r));
  });

  it('delivers 2,000 messages exactly once and in order while the line is cut again and again', async () => {
    await using t = await startServer({ history: { size: 5000, ttl: 60_000 } });
    const subscriber = t.client();
    const offsets: number[] = [];
    const values: number[] = [];
    const gaps: GapInfo[] = [];
    const ch = subscriber.channel('stream');
    ch.on('message', (m: ChannelMessage) => {
      offsets.push(m.offset);
      values.push(m.data as number);
    });
    ch.on('gap', (g) => gaps.push(g));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');

    // Count sessions: each cut must hit a fresh, subscribed session, not an already-dead socket.
    let sessions = subscriber.getSnapshot().state === 'connected' ? 1 : 0;
    subscriber.on('state', ({ to }) => {
      if (to.state === 'connected') sessions++;
    });
    let cuts = 0;
    let cutAt = 0;
    for (let i = 1; i <= 2000; i++) {
      await t.server.publish('stream', i);
      if (i % 100 === 0) {
        await until(() => sessions > cutAt && ch.getSnapshot().state === 'subscribed', 'a new subscribed session before the next cut');
        cutAt = sessions;
        if (t.cutAll() > 0) cuts++;
      }
    }
    await until(() => values.length >= 2000, `all 2,000 (have ${values.length})`, 20_000);
    await new Promise((r) => setTimeout(r, 100)); // nothing extra trickles in
    expect(cuts).toBe(20);
    expect(sessions).toBe(21); // the first session, then one per cut
    expect(gaps).toEqual([]);
    expect(values).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    expect(offsets).toEqual(values);
  });

  it('starts after a given position (bridging a snapshot), or says `gap` when history no longer has it', async () => {
    await using t = await startServer({ history: { size: 3, ttl: 60_000 } });
    const acks = [];
    for (let i = 1; i <= 5; i++) acks.push(await t.server.publish('snap', i));
    const { epoch } = acks[0]!;

    const fresh = t.client();
    const got: number[] = [];
    const ch = fresh.channel('snap', { since: { epoch, offset: 3 } });
    ch.on('message', (m) => got.push(m.data as number));
    await until(() => got.length === 2, 'the two after the snapshot');
    expect(got).toEqual([4, 5]);
    expect(ch.getSnapshot()).toMatchObject({ state: 'subscribed', recovered: true });

    const late = t.client();
    const gaps: GapInfo[] = [];
    const lateGot: number[] = [];
    const old = late.channel('snap', { since: { epoch, offset: 1 } }); // 2 has left the 3-message history
    old.on('gap', (g) => gaps.push(g));
    old.on('message', (m) => lateGot.push(m.data as number));
    await until(() => gaps.length === 1, 'gap');
    expect(gaps[0]).toMatchObject({ reason: 'history_exhausted', from: { offset: 1 }, to: { offset: 5 } });
    await t.server.publish('snap', 6);
    await until(() => lateGot.length === 1 && got.length === 3, 'live after');
    expect(lateGot).toEqual([6]);
  });

  it('emits `gap` when the history is too short to cover the disconnection', async () => {
    await using t = await startServer({ history: { size: 10, ttl: 60_000 } });
    const client = t.client({ backoff: () => 300 });
    const got: number[] = [];
    const gaps: GapInfo[] = [];
    const ch = client.channel('short');
    ch.on('message', (m) => got.push(m.data as number));
    ch.on('gap', (g) => gaps.push(g));
    await until(() => ch.getSnapshot().state === 'subscribed', 'subscribed');
    await t.server.publish('short', 1);
    await until(() => got.length === 1, 'first');
    t.cutAll();
    await until(() => client.getSnapshot().state === 'reconnecting', 'reconnecting');
    for (let i = 2; i <= 30; i++) await t.server.publish('short', i);
    await until(() => gaps.length === 1, 'gap');
    expect(gaps[0]).toMatchObject({ channel: 'short', reason: 'history_exhausted', from: { offset: 1 }, to: { offset: 30 } });
    await t.server.publish('short', 31);
    await until(() => got.length === 2, 'live after gap');
    expect(got).toEqual([1, 31]);
    expect(ch.getSnapshot()).toMatchObject({ state: 'subscribed', recovered: false });
  });

  it('retries an unacknowledged publish after a cut with the same id: stored once', async () => {
    await using t = await startServer();
    const publisher = t.client();
    const watcher = t.client();
    const seen: ChannelMessage[] = [];
        const watched = watcher.channel('once');
    watched.on('message', (m) => seen.push(m));
    await until(() => watched.getSnapshot().state === 'subscribed', 'watcher subscribed');
    publisher.connect();
    await until(() => publisher.getSnapshot().state === 'connected', 'publisher up');
    const results = Array.from({ length: 50 }, (_, i) => publisher.publish('once', i));
    t.cutAll(); // some publishes were written, some acked, some neither
    const acks = await Promise.all(results);
    await until(() => seen.length >= 50, 'watcher sees 50');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.map((m) => m.data)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(new Set(acks.map((a) => a.offset)).size).toBe(50);
  });
});

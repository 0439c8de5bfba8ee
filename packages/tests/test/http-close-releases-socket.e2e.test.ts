import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createServer } from '@tidewire/server';
import { until } from './helpers/servers';

/**
 * Once the server is done with an HTTP response of a session (an SSE stream closed `slow_consumer`,
 * a long-poll answer nobody will read), a peer that stopped reading must not keep the socket, nor
 * the bytes it did not take, in the server: the socket is cut after a short grace, as a WebSocket's
 * is. A reading peer still gets every last byte (the `close` event) first.
 */

const silent = { warn: () => {}, error: () => {} };
const CONNECT = JSON.stringify({ type: 'connect', v: 1 });
const subscribe = (channel: string) => JSON.stringify({ type: 'subscribe', id: 's1', channel });

/** A real server on loopback that also tells which server-side socket serves a given client socket. */
async function serve(options: Parameters<typeof createServer>[0]) {
  const server = createServer({ logger: silent, ...options });
  const { url, port, httpServer } = await server.listen(0);
  const base = url.replace(/^ws/, 'http');
  const byClientPort = new Map<number, Socket>();
  const requests: IncomingMessage[] = [];
  httpServer.on('connection', (socket: Socket) => byClientPort.set(socket.remotePort!, socket));
  httpServer.on('request', (request: IncomingMessage) => requests.push(request));
  return {
    server,
    url,
    port,
    base,
    /** The server's end of `client` (undefined until the server has accepted it). */
    serverSide: (client: Socket) => byClientPort.get(client.localPort!),
    /** Whether the server has seen a request over `client` (our listener runs after Tidewire's: it has been routed). */
    sawRequestOver: (client: Socket) => requests.some((r) => r.socket.remotePort === client.localPort),
    async [Symbol.asyncDispose]() {
      await server.close();
    },
  };
}

/** A raw HTTP/1.1 request over its own socket; `text()` is everything read so far. `stopReading()` leaves the rest unread. */
function rawRequest(port: number, head: string) {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let text = '';
  const onData = (chunk: Buffer): void => void (text += chunk.toString('latin1'));
  socket.on('data', onData);
  socket.write(head);
  return {
    socket,
    text: () => text,
    stopReading: () => {
      socket.off('data', onData);
      socket.pause();
    },
  };
}

/** A raw SSE stream (its own socket) whose session is connected and subscribed to `channel`. */
async function rawSseSession(t: Awaited<ReturnType<typeof serve>>, channel: string) {
  const peer = rawRequest(t.port, `GET /tidewire/sse HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
  await until(() => /"sid":"[^"]+","secret":"[^"]+"/.test(peer.text()), 'the open event');
  const [, sid, secret] = /"sid":"([^"]+)","secret":"([^"]+)"/.exec(peer.text())!;
  const up = await fetch(`${t.base}/sse?sid=${sid}`, { method: 'POST', headers: { 'x-tidewire-secret': secret! }, body: JSON.stringify([CONNECT, subscribe(channel)]) });
  expect(up.status).toBe(204);
  await until(() => peer.text().includes('"subscribed"'), 'subscribed');
  return peer;
}

describe('SSE: a stream the server closed does not outlive the grace', () => {
  it('peers that stop reading are closed slow_consumer and their sockets are cut; a reading client is unaffected', async () => {
    await using t = await serve({ limits: { maxBufferedBytes: 256 * 1024 } });
    // A reading peer on another channel: it must stay connected and keep receiving.
    const reader = await rawSseSession(t, 'quiet');
    const peers = await Promise.all([0, 1, 2].map(() => rawSseSession(t, 'busy')));
    for (const peer of peers) peer.stopReading();

    // Publish until the server gives up on all three: their queues fill once TCP's buffers are full.
    const pad = 'x'.repeat(16 * 1024);
    const slowConsumerCloses = () => t.server.metrics().closes.slow_consumer ?? 0;
    for (let round = 0; slowConsumerCloses() < peers.length; round++) {
      if (round > 2000) throw new Error(`only ${slowConsumerCloses()} slow_consumer closes after ${round} rounds`);
      await Promise.all(Array.from({ length: 32 }, () => t.server.publish('busy', { pad })));
    }

    // Their server-side sockets are cut (so their unsent bytes go with them), though the peers keep TCP open.
    await until(() => peers.every((p) => t.serverSide(p.socket)?.destroyed === true), 'the server cut every non-reading peer');
    expect(peers.every((p) => !p.socket.destroyed)).toBe(true); // none of them hung up by itself
    expect(t.server.metrics().sessions.sse).toBe(1); // the reader only

    await t.server.publish('quiet', 'still here');
    await until(() => reader.text().includes('still here'), 'the reader still receives');
    expect(reader.text()).not.toContain('"close"');
    for (const p of [reader, ...peers]) p.socket.destroy();
  });

  it('a reading peer gets the close event and the end of the stream, not a cut', async () => {
    await using t = await serve({});
    const res = await fetch(`${t.base}/sse`, { headers: { accept: 'text/event-stream' } });
    const body = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    /** Read until `enough` holds; true when the stream ended first. */
    const read = async (enough: (text: string) => boolean): Promise<boolean> => {
      while (!enough(text)) {
        const chunk = await body.read();
        if (chunk.done) return true;
        text += decoder.decode(chunk.value, { stream: true });
      }
      return false;
    };
    await read((s) => s.includes('event: open'));
    const { sid, secret } = JSON.parse(/event: open\ndata: (.*)\n\n/.exec(text)![1]!) as { sid: string; secret: string };
    const up = await fetch(`${t.base}/sse?sid=${sid}`, { method: 'POST', headers: { 'x-tidewire-secret': secret }, body: JSON.stringify([CONNECT]) });
    expect(up.status).toBe(204);
    await read((s) => s.includes('"connected"'));
    // Not a JSON array: the POST is refused and the session closed protocol_error (its last event is the close frame).
    const bad = await fetch(`${t.base}/sse?sid=${sid}`, { method: 'POST', headers: { 'x-tidewire-secret': secret }, body: '{}' });
    expect(bad.status).toBe(400);
    const ended = await read(() => false); // to the end: a cut would reject here ("terminated")
    expect(ended).toBe(true);
    const events = text.split('\n\n').filter((e) => e.startsWith('data: '));
    expect(JSON.parse(events.at(-1)!.slice(6))).toMatchObject({ type: 'close', code: 'protocol_error' });
  });
});

describe('long polling: an answer nobody reads does not outlive its session', () => {
  /** Open a raw long-poll session subscribed to `busy`; returns its credentials and the ack of its last read batch. */
  async function subscribedSession(base: string) {
    const { sid, secret } = (await (await fetch(`${base}/poll`, { method: 'POST' })).json()) as { sid: string; secret: string };
    const headers = { 'x-tidewire-secret': secret };
    const up = await fetch(`${base}/poll?sid=${sid}`, { method: 'POST', headers, body: JSON.stringify([CONNECT, subscribe('busy')]) });
    expect(up.status).toBe(204);
    let ack = 0;
    let seen = '';
    while (!seen.includes('subscribed')) {
      const batch = (await (await fetch(`${base}/poll?sid=${sid}&ack=${ack}`, { headers })).json()) as { seq: number; frames: string[] };
      ack = batch.seq;
      seen += batch.frames.join('');
    }
    return { sid, secret, headers, ack };
  }

  /**
   * A held poll whose peer never reads, answered with one frame larger than TCP's buffers, so part of the
   * answer stays in the server. Resolves once it does.
   */
  async function unreadAnswer(t: Awaited<ReturnType<typeof serve>>, session: { sid: string; secret: string; ack: number }) {
    const peer = rawRequest(t.port, `GET /tidewire/poll?sid=${session.sid}&ack=${session.ack} HTTP/1.1\r\nHost: x\r\nx-tidewire-secret: ${session.secret}\r\n\r\n`);
    peer.stopReading();
    await until(() => t.sawRequestOver(peer.socket), 'the poll is held');
    await t.server.publish('busy', 'x'.repeat(24 * 1024 * 1024));
    await until(() => (t.serverSide(peer.socket)?.writableLength ?? 0) > 0, 'part of the answer waits in the server');
    return peer;
  }

  it('the session expires and the socket holding its unread answer is cut', async () => {
    await using t = await serve({ transports: { longpoll: { timeout: 2_000, grace: 100 } } });
    const session = await subscribedSession(t.base);
    const peer = await unreadAnswer(t, session);
    // The peer never polls again: the session expires (timeout + grace), and the unread answer goes with it.
    await until(() => t.server.metrics().sessions.longpoll === 0, 'the session expired', 20_000);
    await until(() => t.serverSide(peer.socket)?.destroyed === true, 'the server cut the peer');
    expect(peer.socket.destroyed).toBe(false); // the peer did not hang up by itself
    peer.socket.destroy();
  });

  it('a client back on a fresh connection gets the batch again; the unread first answer is cut, long before the session could expire', async () => {
    await using t = await serve({ transports: { longpoll: { timeout: 60_000, grace: 60_000 } } });
    const session = await subscribedSession(t.base);
    const peer = await unreadAnswer(t, session);
    // The same ack again: the batch was not received, so it is sent again, whole.
    const again = await fetch(`${t.base}/poll?sid=${session.sid}&ack=${session.ack}`, { headers: session.headers });
    const batch = (await again.json()) as { seq: number; frames: string[] };
    expect(batch.seq).toBe(session.ack + 1);
    expect(JSON.parse(batch.frames[0]!)).toMatchObject({ type: 'message', channel: 'busy' });
    await until(() => t.serverSide(peer.socket)?.destroyed === true, 'the server cut the first, unread answer');
    expect(t.server.metrics().sessions.longpoll).toBe(1); // the session itself lives on
    expect(peer.socket.destroyed).toBe(false);
    peer.socket.destroy();
    const bye = await fetch(`${t.base}/poll?sid=${session.sid}`, { method: 'DELETE', headers: session.headers });
    expect(bye.status).toBe(204);
  });
});

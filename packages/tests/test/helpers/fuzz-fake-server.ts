import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeServerFrame } from '@tidewire/core/protocol';
import type { FuzzItem } from './fuzz-frames';

/** The one channel the fake server streams, its epoch, and the channel publishes go to. */
export const STREAM = 'fuzz:stream';
export const EPOCH = 'E1';

/** What the fake server wrote, for the test to compare with what the client reported. */
export interface GarbageTally {
  /** Refused-by-spec items written to a live line (each must become one `invalid_frame`). */
  invalid: number;
  /** Valid-but-odd items written (must change nothing the app sees). */
  stray: number;
  /** Lines (connections or HTTP sessions) the client opened. */
  lines: number;
}

/**
 * A "garbage-speaking" server on loopback for one transport: it speaks just enough of the
 * protocol to connect, subscribe (with replay from `since`), ack publishes (sometimes twice) and
 * answer pings — and between real messages of `STREAM` it writes whatever fuzz items it is given,
 * in the transport's own framing (WebSocket text/binary messages, SSE events, long-poll batches).
 */
export interface GarbageServer extends AsyncDisposable {
  readonly url: string;
  readonly tally: GarbageTally;
  /** Messages 1..n of STREAM written so far (the client must end up with exactly these). */
  readonly emitted: number;
  /** Write the next real message of STREAM to the live line. */
  message(): void;
  /** Write an earlier message again (a valid duplicate the client must drop). */
  duplicate(offset: number): void;
  /** Write one fuzz item to the live line. */
  garbage(item: FuzzItem): void;
  /** Whether a line is up and subscribed to STREAM. */
  readonly ready: boolean;
}

type Kind = 'websocket' | 'sse' | 'longpoll';

/** One live line's way of writing: a frame text, or bytes/transport-level garbage (false when the transport cannot carry it). */
interface Writer {
  text(text: string): void;
  /** Transport-level garbage: binary on WebSocket, an unknown event on SSE, a bad batch on long polling. */
  noise(item: FuzzItem): boolean;
}

export async function startGarbageServer(kind: Kind): Promise<GarbageServer> {
  const tally: GarbageTally = { invalid: 0, stray: 0, lines: 0 };
  const published = new Map<string, number>(); // publish id → offset on the publish channel
  let emitted = 0;
  let live: { writer: Writer; subscribed: boolean } | undefined;

  const messageText = (offset: number) => JSON.stringify({ type: 'message', channel: STREAM, epoch: EPOCH, offset, id: `m${offset}`, data: offset });

  /** The protocol side: answer one client frame on `writer`'s line. */
  function receive(text: string, line: { writer: Writer; subscribed: boolean }): void {
    let frame: { type?: string; id?: string; channel?: string; since?: { epoch: string; offset: number } };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      return;
    }
    const send = (f: object) => line.writer.text(JSON.stringify(f));
    switch (frame.type) {
      case 'connect':
        live = line;
        return send({ type: 'connected', v: 1, session: 'fuzz', heartbeat: 60_000, maxPayload: 1 << 20 });
      case 'subscribe': {
        if (frame.channel !== STREAM) return send({ type: 'subscribed', id: frame.id, channel: frame.channel, epoch: EPOCH, offset: 0, recovered: true });
        const from = frame.since?.epoch === EPOCH ? Math.min(frame.since.offset, emitted) : emitted;
        send({ type: 'subscribed', id: frame.id, channel: STREAM, epoch: EPOCH, offset: from, recovered: true });
        for (let offset = from + 1; offset <= emitted; offset++) line.writer.text(messageText(offset));
        line.subscribed = true;
        return;
      }
      case 'publish': {
        const id = String(frame.id);
        const offset = published.get(id) ?? published.size + 1;
        published.set(id, offset);
        const ack = { type: 'ack', id, epoch: EPOCH, offset };
        send(ack);
        if (offset % 3 === 0) send(ack); // a duplicate ack: the publish must still settle once
        return;
      }
      case 'ping':
        return send({ type: 'pong' });
      default:
        return;
    }
  }

  const httpServer = createServer((req, res) => void handleHttp(req, res));
  const sessions = new Map<string, { writer: Writer; subscribed: boolean; queue: string[]; waiting?: () => void; seq: number; sent: Map<number, string> }>();
  let sids = 0;

  async function body(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const sid = url.searchParams.get('sid');
    if (req.method === 'DELETE') return void res.writeHead(204).end();
    if (req.method === 'POST' && sid) {
      const session = sessions.get(sid);
      const frames = JSON.parse(await body(req)) as string[];
      res.writeHead(204).end();
      if (session) for (const text of frames) receive(text, session);
      return;
    }
    if (kind === 'sse' && req.method === 'GET' && url.pathname.endsWith('/sse')) {
      const id = `s${++sids}`;
      tally.lines++;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(`event: open\ndata: ${JSON.stringify({ sid: id, secret: 'fuzz-secret' })}\n\n`);
      const writer: Writer = {
        // A text with line breaks becomes several data lines (the client joins them with \n).
        text: (text) => void res.write(`${text.split(/\r\n|\r|\n/).map((l) => `data: ${l}`).join('\n')}\n\n`),
        noise: (item) => {
          res.write(`event: fuzz-${item.kind.replace(/\W/g, '-')}\ndata: x\n\n`); // an event type the protocol does not have
          return true;
        },
      };
      sessions.set(id, { writer, subscribed: false, queue: [], seq: 0, sent: new Map() });
      req.on('close', () => sessions.delete(id));
      return;
    }
    if (kind === 'longpoll' && url.pathname.endsWith('/poll')) {
      if (req.method === 'POST') {
        const id = `p${++sids}`;
        tally.lines++;
        const session = { writer: undefined as unknown as Writer, subscribed: false, queue: [] as string[], waiting: undefined as (() => void) | undefined, seq: 0, sent: new Map<number, string>() };
        let textsSinceNoise = 0;
        session.writer = {
          text: (text) => {
            textsSinceNoise++;
            session.queue.push(text);
            session.waiting?.();
          },
          // A poll answer that is not a batch: queued as a marker the poll handler turns into a bad body.
          // Rationed: the client re-polls 200 ms after one (and gives the line up after three in a
          // row, by design), so they come between real batches, not in runs.
          noise: () => {
            if (textsSinceNoise < 10) return false;
            textsSinceNoise = 0;
            session.queue.push('\u0000bad-batch');
            session.waiting?.();
            return true;
          },
        };
        sessions.set(id, session);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: id, secret: 'fuzz-secret' }));
        return;
      }
      const session = sid ? sessions.get(sid) : undefined;
      if (!session) return void res.writeHead(404).end();
      const ack = Number(url.searchParams.get('ack'));
      for (const seq of session.sent.keys()) if (seq <= ack) session.sent.delete(seq);
      const resend = [...session.sent.entries()].find(([seq]) => seq > ack);
      if (resend) return void res.writeHead(200, { 'content-type': 'application/json' }).end(resend[1]);
      if (session.queue.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 2_000);
          session.waiting = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        session.waiting = undefined;
      }
      // A bad-batch marker goes out alone, as the whole (undecodable) answer; it is not a batch, so never resent.
      if (session.queue[0] === '\u0000bad-batch') {
        session.queue.shift();
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"seq":"not a number","frames":7}');
      }
      const cut = session.queue.indexOf('\u0000bad-batch');
      const frames = session.queue.splice(0, cut < 0 ? session.queue.length : cut);
      const text = JSON.stringify({ seq: ++session.seq, frames });
      session.sent.set(session.seq, text);
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(text);
    }
    res.writeHead(404).end();
  }

  const wss = kind === 'websocket' ? new WebSocketServer({ server: httpServer }) : undefined;
  wss?.on('connection', (socket: WebSocket) => {
    tally.lines++;
    const line = {
      writer: {
        text: (text: string) => socket.send(text),
        noise: (item: FuzzItem) => {
          socket.send(item.payload, { binary: true });
          return true;
        },
      },
      subscribed: false,
    };
    socket.on('message', (data) => receive(data.toString(), line));
  });

  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tw`,
    tally,
    get emitted() {
      return emitted;
    },
    get ready() {
      return live?.subscribed === true;
    },
    message() {
      emitted++;
      if (live?.subscribed) live.writer.text(messageText(emitted));
    },
    duplicate(offset) {
      if (live?.subscribed && offset >= 1 && offset <= emitted) live.writer.text(messageText(offset));
    },
    garbage(item) {
      if (!live?.subscribed) return;
      const transportLevel = item.binary === true || typeof item.payload !== 'string';
      if (transportLevel) {
        if (live.writer.noise(item)) tally.invalid++;
        return;
      }
      live.writer.text(item.payload as string);
      // Over WebSocket a message holds one frame per line (protocol §17.4, `lines`): each line is judged on its own.
      const frames = kind === 'websocket' ? (item.payload as string).split('\n') : [item.payload as string];
      if (frames.length > 1) {
        for (const frame of frames) {
          if (decodeServerFrame(frame).ok) tally.stray++;
          else tally.invalid++;
        }
      } else if (item.invalid) tally.invalid++;
      else tally.stray++;
    },
    async [Symbol.asyncDispose]() {
      for (const client of wss?.clients ?? []) client.terminate();
      wss?.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

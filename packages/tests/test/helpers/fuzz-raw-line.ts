import WebSocket from 'ws';
import type { TransportFactory } from '@tidewire/core';
import { CLOSE_CODE_NUMBERS, CLOSE_CODES, type CloseCode } from '@tidewire/core/protocol';
import type { FuzzItem } from './fuzz-frames';

/** A server frame as the fuzzer sees it: parsed JSON, never trusted. */
export type SeenFrame = { readonly type?: unknown; readonly code?: unknown; readonly [key: string]: unknown };

/** How a raw line ended. */
export interface LineEnd {
  /** The spec close code the server named: from its `close` frame, else from the WebSocket close code. */
  readonly code: string | undefined;
  /** Whether a `close` frame with a spec code arrived before the line ended. */
  readonly sawCloseFrame: boolean;
  readonly detail: string;
}

/**
 * One client connection that speaks whatever the fuzzer tells it to, over a real transport:
 * `ws` directly for WebSocket (so it can send binary and non-UTF-8 frames), the core transport
 * for SSE and long polling (so the session handshake stays the product's own), with raw POSTs
 * for bodies a string cannot carry.
 */
export interface RawLine {
  /** Every frame received, in order. */
  readonly frames: SeenFrame[];
  readonly ended: LineEnd | undefined;
  /** Send one fuzz item (bytes on HTTP go as one raw POST of the session, awaited). */
  send(item: FuzzItem): Promise<void>;
  /** Send a marker request (no waiting); the server's answer to it follows its answers to everything sent before. */
  mark(): string;
  /** Where the answer to marker `id` is in `frames` (-1: not yet). */
  answerIndex(id: string): number;
  /** Resolves true once marker `id` was answered, false if the line ended (or hung) first. */
  waitFor(id: string, timeoutMs?: number): Promise<boolean>;
  /** Resolves true once the server answered everything sent before, false when the line ended (or hung). */
  sync(timeoutMs?: number): Promise<boolean>;
  close(): void;
}

const isSpecCloseFrame = (f: SeenFrame) => f.type === 'close' && (CLOSE_CODES as readonly unknown[]).includes(f.code);
const parse = (text: string): SeenFrame => {
  try {
    return JSON.parse(text) as SeenFrame;
  } catch {
    return { type: '(not JSON)', text: text.slice(0, 100) };
  }
};

/** Resolves once `check` holds or `timeoutMs` passed, polling every few ms. */
async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

/** Build a RawLine around a send function and the line's events; shared by both kinds. */
function rawLine(sendText: (text: string) => void, sendBytes: (item: FuzzItem) => Promise<void>, closeLine: () => void) {
  const frames: SeenFrame[] = [];
  let ended: LineEnd | undefined;
  let syncs = 0;
  const line: RawLine & { receive(text: string): void; end(code: string | undefined, detail: string): void } = {
    frames,
    get ended() {
      return ended;
    },
    receive: (text) => void frames.push(parse(text)),
    end: (code, detail) => {
      if (ended) return;
      const closeFrame = [...frames].reverse().find(isSpecCloseFrame);
      ended = { code: (closeFrame?.code as string | undefined) ?? code, sawCloseFrame: closeFrame !== undefined, detail };
    },
    async send(item) {
      if (ended) return;
      if (typeof item.payload === 'string' && !item.binary) sendText(item.payload);
      else await sendBytes(item);
    },
    mark() {
      // A request the server answers in order with the others (a pong may overtake answers still
      // in the request queue): a subscribe with its own id, answered `subscribed` or `error`.
      const id = `sync-${++syncs}`;
      if (!ended) sendText(JSON.stringify({ type: 'subscribe', id, channel: 'fuzz:sync' }));
      return id;
    },
    answerIndex: (id) => frames.findIndex((f) => f.id === id),
    async waitFor(id, timeoutMs = 15_000) {
      await waitFor(() => ended !== undefined || line.answerIndex(id) >= 0, timeoutMs);
      return line.answerIndex(id) >= 0;
    },
    async sync(timeoutMs = 15_000) {
      if (ended) return false;
      return (await line.waitFor(line.mark(), timeoutMs)) && !ended;
    },
    close: closeLine,
  };
  return line;
}

/** A raw WebSocket line: connects, greets with `connect`, resolves once `connected` arrived (or the server refused). */
export async function openRawWebSocket(url: string): Promise<RawLine> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'));
  const line = rawLine(
    (text) => socket.readyState === WebSocket.OPEN && socket.send(text),
    async (item) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(item.payload, { binary: item.binary === true });
    },
    () => socket.close(),
  );
  socket.on('message', (data, isBinary) => line.receive(isBinary ? '(binary)' : data.toString()));
  socket.on('close', (code, reason) => line.end(CLOSE_CODES.find((c) => closeNumber(c) === code), `WebSocket close ${code} ${reason.toString()}`));
  socket.on('error', () => {}); // the close event follows and says what happened
  await new Promise<void>((resolve) => {
    socket.once('open', resolve);
    socket.once('close', () => resolve());
  });
  if (socket.readyState === WebSocket.OPEN) socket.send('{"type":"connect","v":1}');
  await waitFor(() => line.ended !== undefined || line.frames.some((f) => f.type === 'connected'), 15_000);
  return line;
}

const closeNumber = (code: CloseCode) => CLOSE_CODE_NUMBERS[code];

/**
 * A raw line over an HTTP transport factory (SSE or long polling). Text items go through the
 * transport's own ordered POSTs; byte items go as a raw POST of the same session, replaying the
 * headers (Authorization, session secret) of the transport's last POST, after everything before
 * them was processed (a sync first), so the fuzz stays in order.
 */
export async function openRawHttp(url: string, factory: TransportFactory): Promise<RawLine> {
  let lastPost: { url: string; headers: Record<string, string> } | undefined;
  const spyingFetch: typeof fetch = (input, init) => {
    if (init?.method === 'POST' && String(input).includes('sid=')) {
      lastPost = { url: String(input), headers: Object.fromEntries(new Headers(init.headers).entries()) };
    }
    return fetch(input, init);
  };
  // The transport sends the `connect` frame once open, which also yields a POST to copy.
  const line: ReturnType<typeof rawLine> = rawLine(
    (text) => transport.send(text),
    async (item) => {
      if (!(await line.sync()) || !lastPost) return;
      const { 'content-length': _length, ...headers } = lastPost.headers;
      await fetch(lastPost.url, { method: 'POST', headers, body: item.payload as Uint8Array<ArrayBuffer> }).then(
        (res) => res.arrayBuffer(),
        () => undefined,
      );
    },
    () => transport.close(),
  );
  const transport = factory.open(
    { url, fetch: spyingFetch },
    {
      onOpen: () => transport.send('{"type":"connect","v":1}'),
      onFrame: (text) => line.receive(text),
      onInvalid: (reason) => line.receive(JSON.stringify({ type: '(invalid on the transport)', reason })),
      onClose: (info) => line.end(info.code, info.message),
    },
  );
  await waitFor(() => line.ended !== undefined || line.frames.some((f) => f.type === 'connected'), 15_000);
  return line;
}

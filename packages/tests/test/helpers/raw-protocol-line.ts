import WebSocket from 'ws';
import type { TransportFactory } from '@tidewire/core';
import { until } from './servers';

export type Frame = { type: string; id?: string; code?: string; channel?: string; [k: string]: unknown };

export interface Line {
  readonly frames: Frame[];
  ended: string | undefined;
  send(frame: object | string): void;
  next(match: (f: Frame) => boolean, what: string, timeout?: number): Promise<Frame>;
  close(): void;
}

/**
 * A raw protocol line over any transport: WebSocket through `ws`, SSE and long polling through the
 * product's own transport (so the sid/secret handshake is the product's), greeting with `connect`
 * (the given one). Resolves once `connected` (or the end) arrived.
 */
export async function openLine(name: string, url: string, transport: () => TransportFactory, connect: object = { type: 'connect', v: 1 }, pipelined: readonly string[] = []): Promise<Line> {
  const frames: Frame[] = [];
  const parse = (t: string): Frame => {
    try {
      return JSON.parse(t) as Frame;
    } catch {
      return { type: '(not JSON)', text: t };
    }
  };
  let sendText: (t: string) => void;
  let closeLine: () => void;
  const line: Line = {
    frames,
    ended: undefined,
    send: (f) => sendText(typeof f === 'string' ? f : JSON.stringify(f)),
    async next(match, what, timeout = 10_000) {
      await until(() => frames.some(match) || line.ended !== undefined, what, timeout);
      const found = frames.find(match);
      if (!found) throw new Error(`line ended (${line.ended}) before: ${what}; frames ${JSON.stringify(frames).slice(0, 500)}`);
      return found;
    },
    close: () => closeLine(),
  };
  if (name === 'websocket') {
    const ws = new WebSocket(url);
    ws.on('message', (d) => {
      for (const t of String(d).split('\n')) frames.push(parse(t));
    });
    ws.on('close', (code) => (line.ended = `ws close ${code}`));
    ws.on('error', () => {});
    await new Promise((resolve) => ws.once('open', resolve).once('close', resolve));
    sendText = (t) => ws.readyState === WebSocket.OPEN && ws.send(t);
    closeLine = () => ws.close();
    sendText(JSON.stringify(connect));
    for (const p of pipelined) sendText(p);
  } else {
    const t = transport().open(
      { url: url.replace(/^ws/, 'http') },
      {
        onOpen: () => {
          t.send(JSON.stringify(connect));
          for (const p of pipelined) t.send(p);
        },
        onFrame: (text) => void frames.push(parse(text)),
        onInvalid: () => {},
        onClose: (info) => (line.ended = `${info.code}`),
      },
    );
    sendText = (s) => t.send(s);
    closeLine = () => t.close();
  }
  await until(() => line.ended !== undefined || frames.some((f) => f.type === 'connected' || f.type === 'close'), 'connected', 15_000);
  return line;
}

import WebSocket from 'ws';
import { until } from './servers';

/** A server frame as a raw line sees it: parsed JSON. */
export type RawFrame = { type: string; id?: string; channel?: string; code?: string; [key: string]: unknown };

/**
 * A raw WebSocket protocol line, connected (`connect` with `token`, `connected` received): for tests
 * that speak the protocol directly, as any client may, without the reference client's own behaviour.
 */
export async function rawWsLine(url: string, token: string, features?: string[]) {
  const ws = new WebSocket(url);
  const frames: RawFrame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as RawFrame));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const send = (frame: object) => ws.send(JSON.stringify(frame));
  /** The first frame matching, once it arrived. */
  const next = async (match: (f: RawFrame) => boolean, what: string): Promise<RawFrame> => {
    await until(() => frames.some(match), what);
    return frames.find(match)!;
  };
  send({ type: 'connect', v: 1, token, ...(features && { features }) });
  await next((f) => f.type === 'connected', 'connected');
  return { ws, frames, send, next };
}

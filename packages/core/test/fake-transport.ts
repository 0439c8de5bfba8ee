import { expect, vi } from 'vitest';
import { createClient } from '../src/client';
import type { ClientFrame, ServerFrame } from '../src/protocol/frames';
import { fallbackPlan } from '../src/fallback-plan';
import type { TransportClose, TransportEvents, TransportFactory } from '../src/transport';

/** An in-process transport the test drives by hand: the test plays the server. */
export interface FakeLine {
  readonly sent: ClientFrame[];
  open(): void;
  push(frame: ServerFrame | string): void;
  drop(info?: TransportClose): void;
  /** Bytes arrived (part of a frame, or not a frame at all): `bytes` undefined when unknown. */
  activity(bytes?: number): void;
  closedByClient: boolean;
}

export function fakeTransport(name: 'websocket' | 'sse' | 'longpoll' = 'websocket') {
  const lines: FakeLine[] = [];
  const factory: TransportFactory = {
    name,
    plan: fallbackPlan,
    open(_context, events: TransportEvents) {
      const line: FakeLine = {
        sent: [],
        closedByClient: false,
        open: () => events.onOpen(),
        push: (frame) => events.onFrame(typeof frame === 'string' ? frame : JSON.stringify(frame)),
        drop: (info = { message: 'dropped' }) => events.onClose(info),
        activity: (bytes) => events.onActivity?.(bytes),
      };
      lines.push(line);
      return {
        send: (text) => line.sent.push(JSON.parse(text) as ClientFrame),
        close: () => {
          line.closedByClient = true;
        },
      };
    },
  };
  return {
    factory,
    lines,
    get last(): FakeLine {
      const line = lines.at(-1);
      if (!line) throw new Error('no line opened yet');
      return line;
    },
  };
}

export const connected = (heartbeat = 25_000): ServerFrame => ({
  type: 'connected',
  v: 1,
  session: 'sess',
  heartbeat,
  maxPayload: 65_536,
});

/**
 * A client on a fake line that is up: connected, opened and greeted with `frame` (under fake timers).
 * @param frame the server's `connected` (default: {@link connected} with a 25 s heartbeat)
 */
export async function connectedClient(frame: ServerFrame = connected()) {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory] });
  client.connect();
  await vi.advanceTimersByTimeAsync(0);
  t.last.open();
  t.last.push(frame);
  return { client, t };
}

/**
 * With real timers: wait for the client's line on `t`, open it, greet it with `connected`, wait
 * for the subscribe of `channel` and answer it `subscribed` at offset 0 of epoch `e`.
 * @returns push(offset, data?): a `message` of that channel at `offset` (id `m<offset>`)
 */
export async function openAndSubscribe(t: ReturnType<typeof fakeTransport>, channel = 'room') {
  await vi.waitFor(() => expect(t.lines.length).toBeGreaterThan(0));
  t.last.open();
  t.last.push(connected());
  await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'subscribe' && f.channel === channel)).toBe(true));
  const sub = t.last.sent.find((f) => f.type === 'subscribe' && f.channel === channel) as { id: string };
  t.last.push({ type: 'subscribed', id: sub.id, channel, epoch: 'e', offset: 0, recovered: false });
  return (offset: number, data: unknown = offset, id = `m${offset}`) => t.last.push({ type: 'message', channel, epoch: 'e', offset, id, data });
}

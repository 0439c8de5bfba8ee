import type { Clock, WebSocketConstructor } from '@tidewire/core';
import { systemClock } from '@tidewire/core';
import type { ClientFrame } from '@tidewire/core/protocol';
import { createServer } from '@tidewire/server';
import type { ServerOptions } from '@tidewire/server';
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';
import WebSocket from 'ws';

const silentLogger = { warn: () => {}, error: () => {} };

/** A real Tidewire server on a free port that counts the subscribes it authorizes. */
export async function startServer(options: ServerOptions = {}) {
  const authorized: string[] = [];
  const server = createServer({
    logger: silentLogger,
    heartbeat: 30_000,
    ...options,
    authorize: (ctx) => {
      if (ctx.action === 'subscribe') authorized.push(ctx.channel);
      return options.authorize?.(ctx) ?? true;
    },
  });
  const { url } = await server.listen(0);
  return { server, url, authorized };
}

/** A `ws` WebSocket that records every socket opened and every frame the client sends. */
export function recordingWebSocket() {
  const frames: ClientFrame[] = [];
  const sockets: WebSocket[] = [];
  function RecordingWebSocket(url: string, protocols?: string | string[]) {
    const socket = new WebSocket(url, protocols);
    sockets.push(socket);
    const send = socket.send.bind(socket);
    socket.send = ((data: string) => {
      frames.push(JSON.parse(data) as ClientFrame);
      send(data);
    }) as typeof socket.send;
    return socket;
  }
  const count = (type: ClientFrame['type'], channel?: string) =>
    frames.filter((f) => f.type === type && (channel === undefined || ('channel' in f && f.channel === channel))).length;
  return { WebSocket: RecordingWebSocket as unknown as WebSocketConstructor, frames, sockets, count };
}

/** The system clock, counting the timers the client has pending right now. */
export function countingClock() {
  const pending = new Set<unknown>();
  const clock: Clock = {
    now: () => systemClock.now(),
    setTimeout(fn, ms) {
      const handle: unknown = systemClock.setTimeout(() => {
        pending.delete(handle);
        fn();
      }, ms);
      pending.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      pending.delete(handle);
      systemClock.clearTimeout(handle);
    },
  };
  return { clock, pending };
}

/** Let timers of `ms` (default: one macrotask) and the I/O they cause run. */
export const tick = (ms = 0) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The hook tests' common frame: every `waitFor` polls up to 15 s (an outcome, not a speed, is under
 * test, and a real round trip on a loaded machine can take seconds), and after each test the
 * rendered trees are unmounted and what the test registered is undone, last first.
 * @returns the list a test pushes its undo steps onto (servers, clients)
 */
export function useTeardown(): (() => unknown)[] {
  configure({ asyncUtilTimeout: 15_000 });
  const teardown: (() => unknown)[] = [];
  afterEach(async () => {
    cleanup();
    for (const fn of teardown.splice(0).reverse()) await fn();
  });
  return teardown;
}

import { createClient } from '@tidewire/core';
import type { Client, ClientOptions, WebSocketConstructor } from '@tidewire/core';
import type { ClientFrame } from '@tidewire/core/protocol';
import { createServer } from '@tidewire/server';
import type { AuthorizeContext, ServerOptions } from '@tidewire/server';
import WebSocket from 'ws';

const silentLogger = { warn: () => {}, error: () => {} };

/** A real @tidewire/server on port 0 that records every subscribe it authorizes. */
export async function startServer(options: ServerOptions = {}) {
  const subscribes: string[] = [];
  const server = createServer({
    logger: silentLogger,
    ...options,
    authorize: (ctx: AuthorizeContext) => {
      if (ctx.action === 'subscribe') subscribes.push(ctx.channel);
      return options.authorize ? options.authorize(ctx) : true;
    },
  });
  const { url } = await server.listen(0);
  return { server, url, subscribes, [Symbol.asyncDispose]: () => server.close() };
}

/** `ws` wrapped so a test can see every frame the client puts on the wire. */
export function recordingWebSocket() {
  const sent: ClientFrame[] = [];
  let opened = 0;
  class Recording extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      opened++;
    }
    override send(data: unknown, ...rest: unknown[]): void {
      sent.push(JSON.parse(String(data)) as ClientFrame);
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  }
  return {
    // `ws`'s overloaded constructor does not match core's WebSocketConstructor type (see report).
    WebSocket: Recording as unknown as WebSocketConstructor,
    sent,
    get opened() {
      return opened;
    },
    framesOf: (type: ClientFrame['type']) => sent.filter((f) => f.type === type),
  };
}

export function nodeClient(url: string, options: Partial<ClientOptions> = {}): { client: Client; wire: ReturnType<typeof recordingWebSocket> } {
  const wire = recordingWebSocket();
  const client = createClient({ url, WebSocket: wire.WebSocket, ...options });
  return { client, wire };
}

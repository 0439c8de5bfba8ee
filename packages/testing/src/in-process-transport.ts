import type { IncomingMessage } from 'node:http';
import type { Transport, TransportEvents, TransportFactory } from '@tidewire/core';
import { encodeFrame, type CloseCode } from '@tidewire/core/protocol';
import type { InProcessSession, Link } from '@tidewire/server';
import type { ClientNetwork } from './client-network';
import type { Wire } from './wire';

/** What a line needs from the kit: the network, and a way to reach whichever server is current. */
export interface LineEnvironment {
  readonly wire: Wire;
  readonly network: ClientNetwork;
  /** The request the server's hooks see for this client. */
  readonly request: () => IncomingMessage;
  /** Open a session on the kit's current server (throws once the kit is closed). */
  connect(link: Link, request: IncomingMessage): InProcessSession;
}

/**
 * A client transport that reaches the kit's in-process server through memory. It reports itself
 * as `websocket` — the transport it imitates: full duplex, one text frame per message, a close
 * frame before the end — so the client under test behaves exactly as it does in production.
 * @param env the kit's wire and this client's network conditions
 * @returns a transport factory for the client's `transports` option
 */
export function inProcessTransport(env: LineEnvironment): TransportFactory {
  return {
    name: 'websocket',
    open: (_context, events) => new InProcessLine(env, events),
  };
}

/**
 * Both ends of one connection. `clientOpen`: the client still gets events; `serverOpen`: the
 * session still gets frames. Every crossing goes through the network's conditions and the wire.
 */
class InProcessLine implements Transport {
  #clientOpen = true;
  /** The client closed this transport: from then on no event may reach it (the Transport contract). */
  #ownerClosed = false;
  #serverOpen = false;
  /** The session has been told to close (close frame queued): it sends nothing more. */
  #serverClosing = false;
  #session: InProcessSession | undefined;
  readonly #env: LineEnvironment;
  readonly #events: TransportEvents;
  readonly #cuttable = { cut: (message: string) => this.#cut(message) };

  constructor(env: LineEnvironment, events: TransportEvents) {
    this.#env = env;
    this.#events = events;
    env.network.lines.add(this.#cuttable);
    // Like a TCP handshake, opening crosses the network: a black-holed line never opens.
    env.network.transmit('to_server', 'control', () => this.#accept());
  }

  send(frame: string): void {
    if (!this.#clientOpen) return;
    this.#env.network.transmit('to_server', 'frame', () => {
      if (this.#serverOpen) this.#session?.receive(frame);
    });
  }

  /** The client hangs up: the server learns it one crossing later (unless the network eats it). */
  close(): void {
    this.#ownerClosed = true;
    if (!this.#clientOpen) return;
    this.#clientOpen = false;
    this.#env.network.lines.delete(this.#cuttable);
    this.#env.network.transmit('to_server', 'control', () => this.#endServer());
  }

  #accept(): void {
    if (!this.#clientOpen) return;
    const request = this.#env.request();
    try {
      this.#session = this.#env.connect(this.#link(request), request);
    } catch (cause) {
      // No server to take the line (the kit is closed): refused, as a network failure.
      this.#clientOpen = false;
      this.#env.network.lines.delete(this.#cuttable);
      this.#events.onClose({ message: 'connection refused (no in-process server)', cause });
      return;
    }
    this.#serverOpen = true;
    this.#env.network.transmit('to_client', 'control', () => {
      if (this.#clientOpen) this.#events.onOpen();
    });
  }

  #link(request: IncomingMessage): Link {
    const origin = request.headers.origin;
    const toClient = (kind: 'frame' | 'control', deliver: () => void): void =>
      this.#env.network.transmit('to_client', kind, () => this.#clientOpen && deliver());
    return {
      ...(origin !== undefined && { remoteOrigin: origin }),
      send: (text) => {
        if (this.#serverOpen && !this.#serverClosing) toClient('frame', () => this.#events.onFrame(text));
      },
      close: (code: CloseCode, message: string, retryAfter?: number) => {
        if (!this.#serverOpen || this.#serverClosing) return;
        this.#serverClosing = true;
        const close = encodeFrame({ type: 'close', code, message, ...(retryAfter !== undefined && { retryAfter }) });
        toClient('frame', () => this.#events.onFrame(close));
        toClient('control', () => {
          this.#clientOpen = false;
          this.#env.network.lines.delete(this.#cuttable);
          this.#events.onClose({ code, message, ...(retryAfter !== undefined && { retryAfter }) });
        });
        // The Link contract: the transport reports the end to the session afterwards.
        this.#env.wire.post(() => this.#endServer());
      },
      // Frames in flight live in the wire, not in a socket buffer: nothing is ever "queued" here.
      bufferedBytes: () => 0,
    };
  }

  #endServer(): void {
    if (!this.#serverOpen) return;
    this.#serverOpen = false;
    this.#session?.linkClosed();
  }

  /** A network failure: both ends learn it on the next crossing, whatever the conditions; frames in flight are lost. */
  #cut(message: string): void {
    const notifyClient = this.#clientOpen;
    this.#clientOpen = false;
    const session = this.#serverOpen ? this.#session : undefined;
    this.#serverOpen = false; // frames already in flight towards the server are lost with the line
    this.#env.network.lines.delete(this.#cuttable);
    this.#env.wire.post(() => {
      session?.linkClosed();
      if (notifyClient && !this.#ownerClosed) this.#events.onClose({ message });
    });
  }
}

/** What every subject (Tidewire over one transport, or a baseline) provides to the bench. */
export interface BenchServer {
  /** The URL clients connect to. */
  readonly url: string;
  /**
   * Send `n` messages to every client subscribed to `push` (there is one), yielding to the event
   * loop every `chunk` messages (default PUSH_CHUNK; `Infinity`: one synchronous loop, no yield).
   */
  push(n: number, make: (i: number) => unknown, chunk?: number): Promise<void>;
  /** Deliver one message to every client subscribed to `fan`. */
  broadcast(data: unknown): void | Promise<unknown>;
  close(): Promise<void>;
}

export interface BenchClient {
  /** Send one message upstream; resolves when the server acknowledged it. */
  publish(data: unknown): Promise<unknown>;
  close(): void;
}

/** Connect one client subscribed to `channel`; resolves once it is connected and subscribed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the payload shape is the scenario's
export type Connect = (url: string, channel: string, onData: (data: any) => void) => Promise<BenchClient>;

export interface Subject {
  startServer(): Promise<BenchServer>;
  connect: Connect;
}

/** Messages are pushed in chunks; between chunks the server yields to its event loop (I/O, acks). */
export const PUSH_CHUNK = 1000;
export const yieldLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function chunked(n: number, send: (i: number) => void, chunk = PUSH_CHUNK): Promise<void> {
  for (let i = 0; i < n; ) {
    const end = Math.min(n, i + chunk);
    for (; i < end; i++) send(i);
    if (i < n) await yieldLoop();
  }
}

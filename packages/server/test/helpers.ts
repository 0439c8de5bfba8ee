import { WebSocket } from 'ws';
import { decodeServerFrame, encodeFrame, type ClientFrame, type ServerFrame } from '@tidewire/core/protocol';
import { createServer, type ServerOptions, type TidewireServer } from '../src/index';

export const silentLogger = { warn: () => {}, error: () => {} };

export async function startServer<User = unknown>(options: ServerOptions<User> = {}) {
  const server = createServer<User>({ logger: silentLogger, ...options });
  const { url, port, httpServer } = await server.listen(0);
  return { server, url, port, httpServer };
}

type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** A raw protocol client: records every server frame, lets a test await the next one of a type. */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: (() => boolean)[] = [];
  #consumed = new Map<string, number>(); // per type: how many next() has handed out

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const decoded = decodeServerFrame(data.toString());
      if (!decoded.ok) throw new Error(`server sent an invalid frame: ${decoded.reason}: ${data.toString()}`);
      this.frames.push(decoded.frame);
      this.#flush();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async open(url: string, headers?: Record<string, string>): Promise<TestClient> {
    const ws = new WebSocket(url, headers ? { headers } : undefined);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** Open and complete the connect handshake. */
  static async connect(url: string, token?: string): Promise<TestClient> {
    const client = await TestClient.open(url);
    client.send({ type: 'connect', v: 1, ...(token !== undefined && { token }) });
    await client.next('connected');
    return client;
  }

  send(frame: ClientFrame): void {
    this.ws.send(encodeFrame(frame));
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** The next frame of this type not yet returned by next() (each type has its own cursor). */
  next<T extends ServerFrame['type']>(type: T, timeoutMs = 10_000): Promise<FrameOf<T>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for "${type}"; got ${JSON.stringify(this.frames)}`));
      }, timeoutMs);
      const waiter = (): boolean => {
        const n = this.#consumed.get(type) ?? 0;
        const frame = this.all(type)[n];
        if (!frame) return false;
        this.#consumed.set(type, n + 1);
        clearTimeout(timer);
        resolve(frame);
        return true;
      };
      if (!waiter()) this.#waiters.push(waiter);
    });
  }

  #flush(): void {
    this.#waiters = this.#waiters.filter((w) => !w());
  }

  /** Frames of one type received so far. */
  all<T extends ServerFrame['type']>(type: T): FrameOf<T>[] {
    return this.frames.filter((f): f is FrameOf<T> => f.type === type);
  }

  close(): void {
    this.ws.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

export type { TidewireServer };

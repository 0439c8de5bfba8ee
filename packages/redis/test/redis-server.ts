import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createClient } from '@redis/client';
import { afterAll, beforeAll } from 'vitest';

/** The binary tests run; CI installs Debian's `redis-server` when missing. */
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

export interface RedisServer extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  /** Stop it (SIGTERM, or SIGKILL with `{ kill: true }`) and wait for the exit. Idempotent. */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Start it again on the same port; with persistence off it comes back empty. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: Redis stops answering but keeps its sockets and data. */
  pause(): void;
  resume(): void;
}

/** A free loopback port: bind port 0, read it, release it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A private redis-server on a free port with persistence off, for one test
 * file. `await using redis = await startRedis()` stops it at the end.
 */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    const proc = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    await untilReady(proc, `redis-server on ${port}`);
  };

  const stop = async ({ kill = false } = {}): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    proc.kill('SIGCONT'); // a paused server cannot act on SIGTERM
    proc.kill(kill ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    [Symbol.asyncDispose]: () => stop({ kill: true }),
  };
}

/** A channel as Redis holds it: its head offset and how many entries its stream keeps. */
export async function storedChannel(url: string, prefix: string, channel: string): Promise<{ head: number; length: number }> {
  const admin = createClient({ url });
  admin.on('error', () => {});
  await admin.connect();
  try {
    const head = Number(await admin.hGet(`${prefix}:{${channel}}:meta`, 's'));
    const length = await admin.xLen(`${prefix}:{${channel}}:stream`);
    return { head, length };
  } finally {
    await admin.close();
  }
}

/**
 * Resolves once a just-spawned `redis-server` says it accepts connections; rejects with its output
 * when it exits, cannot be started, or stays silent for 20 s. Keeps draining stdout afterwards, so
 * the pipe never fills.
 * @param what names the server in the error
 */
export function untilReady(proc: ChildProcess, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        proc.stdout?.resume();
        resolve();
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.resume();
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${output}`));
    });
  });
}

/**
 * A private `redis-server` for the calling test file: started before its tests, killed after. Call
 * at the file's top level.
 * @returns its `url` and `port` (read them inside tests: they exist once it started)
 */
export function useRedis(): Pick<RedisServer, 'url' | 'port'> {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop({ kill: true });
  });
  return {
    get url() {
      return redis!.url;
    },
    get port() {
      return redis!.port;
    },
  };
}

/**
 * Poll `check` every 50 ms for up to `ms`.
 * @returns whether it came true (the test asserts it, so a failure shows what was expected)
 */
export async function eventually(check: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

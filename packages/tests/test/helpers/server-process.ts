import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { createServer } from '@tidewire/server';

type ServerOptions = Parameters<typeof createServer>[0];

export interface ServerProcess extends AsyncDisposable {
  /** The server's endpoint on loopback. */
  readonly url: string;
  /**
   * Make the server publish `values` on `channel` by itself, starting `delayMs` from now,
   * `everyMs` apart — so messages flow while this process's event loop is blocked.
   */
  publishLater(channel: string, values: readonly unknown[], delayMs: number, everyMs: number): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./server-process-main.ts', import.meta.url));

/**
 * A real Tidewire server in a child process (JSON-serialisable options only: no hooks), for
 * tests that block the test process's event loop while the server must keep running:
 * heartbeats, acks and publishes go on and wait in the socket buffers, as they would for a
 * frozen browser tab.
 */
export async function startServerProcess(options: ServerOptions = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@tidewire/source', MAIN, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the server process ended');
    return JSON.parse(value) as Record<string, unknown>;
  };
  const send = async (command: Record<string, unknown>) => {
    child.stdin.write(`${JSON.stringify(command)}\n`);
    return next();
  };
  const ready = await next();
  return {
    url: String(ready.url),
    async publishLater(channel, values, delayMs, everyMs) {
      await send({ cmd: 'publishLater', channel, values, delayMs, everyMs });
    },
    async [Symbol.asyncDispose]() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.write(`${JSON.stringify({ cmd: 'close' })}\n`);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

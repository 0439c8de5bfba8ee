import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

export interface NodeScript extends AsyncDisposable {
  /** The bundled script: starts in a fraction of the time tsx needs, which matters for restarts. */
  readonly path: string;
}

/**
 * Bundle a node script (workspace sources, the `@tidewire/source` condition) into one file in a
 * temporary folder, removed on dispose.
 * @param entry the script to bundle; default helpers/cluster-node.ts
 */
export async function buildNodeScript(entry = join(here, 'cluster-node.ts')): Promise<NodeScript> {
  const dir = await mkdtemp(join(tmpdir(), 'tidewire-cluster-'));
  const path = join(dir, 'cluster-node.mjs');
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@tidewire/source'],
    outfile: path,
    logLevel: 'warning',
    // CommonJS dependencies (node-redis) call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  return { path, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

export interface ClusterNode {
  readonly name: string;
  readonly port: number;
  /** ws://127.0.0.1:port/tidewire — the same across restarts. */
  readonly url: string;
  /** SIGKILL: the process dies with its sockets, nothing else. Waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM: a graceful shutdown. */
  stop(): Promise<void>;
  /** Start it again on the same port; resolves once it listens. */
  start(): Promise<void>;
}

/**
 * A Tidewire server in its own process, on the Redis broker at `redisUrl`
 * (same `prefix` on every node = one cluster), on a fixed port.
 */
export async function startNode(
  script: NodeScript,
  options: { name: string; port: number; redisUrl: string; prefix: string; env?: Record<string, string> },
): Promise<ClusterNode> {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    const proc = spawn(process.execPath, [script.path], {
      env: { ...process.env, PORT: String(options.port), REDIS_URL: options.redisUrl, PREFIX: options.prefix, NODE_NAME: options.name, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    let output = '';
    proc.stderr?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${options.name} did not start:\n${output}`)), 30_000);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('listening ')) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited with ${code}:\n${output}`));
      });
    });
  };

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await exited;
  };

  await start();
  return {
    name: options.name,
    port: options.port,
    url: `ws://127.0.0.1:${options.port}/tidewire`,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
    start,
  };
}

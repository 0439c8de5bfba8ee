/**
 * Build and start the Next.js app from Node (the end-to-end test and `measure.ts` use it):
 * `next build` when the build is missing or older than the sources, then `next start` on a free
 * loopback port, answered once the page responds.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const NEXT_BIN = join(here, 'node_modules/next/dist/bin/next');
/** What a build depends on: the app, the server modules next to it, and the built Tidewire packages it imports. */
const SOURCES = ['app', 'directory.ts', 'dm-server.ts', 'dm-singleton.ts', 'next.config.ts', 'tsconfig.json', 'package.json', '../../packages/core/dist', '../../packages/react/dist', '../../packages/server/dist'];

export interface NextApp {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** What the server printed (for a failing test's message). */
  output(): string;
  /** Stop the server (SIGTERM, then SIGKILL after 5 s). */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Port to listen on; default: a free one. */
  readonly port?: number;
  /** Extra environment for the server (`DM_INBOX_HEARTBEAT_MS`, `DM_INBOX_SECRET`). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * `if-stale` (default): build when `.next` is missing or older than the sources; `always`; `never`:
   * use the build that is there (a caller that already built, and may be serving it from another
   * `next start`, must not have it rebuilt underneath).
   */
  readonly build?: 'if-stale' | 'always' | 'never';
}

const newest = (path: string): number => {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
};

/** True when `.next` holds a production build newer than everything it was built from. */
export function buildIsCurrent(): boolean {
  const buildId = join(here, '.next/BUILD_ID');
  return existsSync(buildId) && statSync(buildId).mtimeMs > Math.max(...SOURCES.map((s) => newest(join(here, s))));
}

function run(args: string[], env: Readonly<Record<string, string>> = {}): ChildProcess {
  return spawn(process.execPath, [NEXT_BIN, ...args], { cwd: here, env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * `next build`, unless the build is current.
 * @param force build anyway
 * @throws Error with the build's output when it fails
 */
export async function buildNextApp(force = false): Promise<void> {
  if (!force && buildIsCurrent()) return;
  const child = run(['build']);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const code = await new Promise<number | null>((done) => child.once('close', done));
  if (code !== 0) throw new Error(`next build failed (exit ${code}):\n${output}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/**
 * Build if needed, then `next start` on loopback.
 * @param options port, environment, when to build
 * @returns the running app, answered once its page responds (at most 60 s)
 * @throws Error when the build fails or the server exits or does not answer in time
 */
export async function startNextApp(options: StartOptions = {}): Promise<NextApp> {
  if (options.build !== 'never') await buildNextApp(options.build === 'always');
  const port = options.port ?? (await freePort());
  const child = run(['start', '--hostname', '127.0.0.1', '--port', String(port)], options.env);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}/`;
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  for (const deadline = Date.now() + 60_000; ; ) {
    if (child.exitCode !== null) throw new Error(`next start exited (${child.exitCode}):\n${output}`);
    const answered = await fetch(url, { signal: AbortSignal.timeout(5000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`next start did not answer on ${url} within 60 s:\n${output}`);
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  return { url, output: () => output, close };
}


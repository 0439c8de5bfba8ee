import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Messages between the orchestrator (run.ts) and a child (server.ts / client.ts). */
type Request = { kind: 'req'; id: number; cmd: string; args: unknown };
type Response = { kind: 'res'; id: number; ok: boolean; value?: unknown; error?: string };
type Event = { kind: 'event'; name: string; value: unknown };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler declares its own argument shape
export type Handlers = Record<string, (args: any) => unknown>;

/** Child side: answer requests with the named handler; `emit` sends an unsolicited event. */
export function serveChild(handlers: Handlers): { emit(name: string, value?: unknown): void } {
  process.on('message', (raw: unknown) => {
    const msg = raw as Request;
    if (msg?.kind !== 'req') return;
    const handler = handlers[msg.cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${msg.cmd}`);
        return handler(msg.args);
      })
      .then(
        (value) => process.send!({ kind: 'res', id: msg.id, ok: true, value } satisfies Response),
        (e: unknown) => process.send!({ kind: 'res', id: msg.id, ok: false, error: String((e as Error)?.stack ?? e) } satisfies Response),
      );
  });
  process.on('disconnect', () => process.exit(0));
  return { emit: (name, value) => process.send!({ kind: 'event', name, value } satisfies Event) };
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Resolve with the value of the next event `name` (or reject after timeoutMs). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- event payloads are typed by the listener
  on(name: string, listener: (value: any) => void): () => void;
  kill(): Promise<void>;
}

/** The flags every child runs with: tsx for the bench harness itself, gc() for memory figures. Tidewire packages load from their built `dist` (what apps ship), so run `pnpm build` first — `pnpm bench` does. */
export const CHILD_EXEC_ARGV = ['--import', 'tsx', '--expose-gc'];

export function spawnChild(file: string, name: string, extraExecArgv: string[] = []): Child {
  const path = fileURLToPath(new URL(`../${file}`, import.meta.url));
  const cp: ChildProcess = fork(path, [], {
    execArgv: [...CHILD_EXEC_ARGV, ...extraExecArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const listeners = new Map<string, Set<(v: unknown) => void>>();
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    cp.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`${name} exited (${code ?? signal})`));
      pending.clear();
      resolve();
    }),
  );
  cp.on('message', (raw: unknown) => {
    const msg = raw as Response | Event;
    if (msg.kind === 'res') {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(`${name}: ${msg.error}`));
    } else if (msg.kind === 'event') {
      for (const l of listeners.get(msg.name) ?? []) l(msg.value);
    }
  });
  return {
    name,
    pid: cp.pid!,
    call<T>(cmd: string, args?: unknown, timeoutMs = 60_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`${name} has exited`));
      const id = ++next;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: "${cmd}" timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v as T)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        cp.send({ kind: 'req', id, cmd, args } satisfies Request);
      });
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => void set.delete(listener);
    },
    async kill() {
      if (exited) return;
      cp.disconnect();
      const t = setTimeout(() => cp.kill('SIGKILL'), 3000);
      await exitPromise;
      clearTimeout(t);
    },
  };
}

/** Memory figures after a full collection. */
export function memory(): { rss: number; heapUsed: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

export const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { untilReady } from '../../../redis/test/redis-server';

/** The binaries; CI's `redis-server` package pulls in `redis-tools`, which has redis-cli. */
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';
const REDIS_CLI = process.env.REDIS_CLI ?? 'redis-cli';

export interface RedisCluster extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>` of every master. */
  readonly urls: readonly string[];
  readonly ports: readonly number[];
  /** SIGKILL the master at `index` (of `ports`) and wait for its exit: its slots are down. */
  killNode(index: number): Promise<void>;
  /** Start it again on its port with its cluster config (it rejoins, empty), and wait for `cluster_state:ok`. */
  restartNode(index: number): Promise<void>;
  /** Stop every node (SIGKILL) and remove their config files. Idempotent. */
  stop(): Promise<void>;
}

/** Whether `port` can be bound on loopback now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free port whose cluster bus port (port + 10000) is free as well: Redis Cluster nodes talk to
 * each other there. Ports are drawn from 20000–45000 so the bus port stays below 65536.
 */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if (taken.has(port) || taken.has(port + 10_000) || taken.has(port - 10_000)) continue;
    if ((await bindable(port)) && (await bindable(port + 10_000))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

/** Start one `redis-server` in cluster mode; resolves once it accepts connections. */
async function startClusterNode(port: number, dir: string): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'no', '--cluster-enabled', 'yes'];
  args.push('--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir, '--save', '', '--appendonly', 'no');
  const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await untilReady(proc, `redis-server (cluster) on ${port}`);
  return proc;
}

/** Run a command to its end; reject with its output when it fails (or cannot be started: redis-cli missing). */
function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    proc.once('error', (e) => reject(new Error(`cannot run ${command} (Debian: apt-get install redis-tools): ${e.message}`)));
    // 'close', not 'exit': a process can exit before its output is read, and 'exit' would then
    // answer with part of it (seen under load: a key scan that came back empty).
    proc.once('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`))));
  });
}

/** Resolve once every node reports `cluster_state:ok` (the slots are assigned and known everywhere). */
async function waitForClusterOk(ports: readonly number[], timeout = 30_000): Promise<void> {
  const start = Date.now();
  for (const port of ports) {
    while (!(await run(REDIS_CLI, ['-p', String(port), 'CLUSTER', 'INFO'])).includes('cluster_state:ok')) {
      if (Date.now() - start > timeout) throw new Error(`the Redis Cluster on ${ports.join(', ')} did not reach cluster_state:ok`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The keys matching `pattern` that the node on `port` holds itself (its slots only). */
export async function nodeKeys(port: number, pattern: string): Promise<string[]> {
  const output = await run(REDIS_CLI, ['-p', String(port), '--scan', '--pattern', pattern]);
  return output.split('\n').filter((line) => line.length > 0);
}

/** How many client connections the node on `port` has, not counting the redis-cli asking. */
export async function nodeConnections(port: number): Promise<number> {
  const output = await run(REDIS_CLI, ['-p', String(port), 'CLIENT', 'LIST']);
  return output.split('\n').filter((line) => line.startsWith('id=')).length - 1;
}

/**
 * Names (`<base>-0`, `<base>-1`, …) of which the first `perMaster` whose hash slot each master owns,
 * per master in port order — so a test can use channels that surely live on every shard.
 * @returns one list of names per master
 */
export async function namesOnEveryMaster(cluster: RedisCluster, base: string, perMaster = 1): Promise<string[][]> {
  const port = String(cluster.ports[0]);
  // `CLUSTER NODES`: "<id> <ip>:<port>@<bus> <flags> <master> … <first>-<last> …" per node.
  const ranges = (await run(REDIS_CLI, ['-p', port, 'CLUSTER', 'NODES']))
    .split('\n')
    .filter((line) => line.includes('master'))
    .map((line) => {
      const fields = line.split(' ');
      const owner = Number(/:(\d+)@/.exec(fields[1] ?? '')?.[1]);
      const slots = fields.slice(8).map((r) => r.split('-').map(Number) as [number, number?]);
      return { owner, has: (slot: number) => slots.some(([from, to]) => slot >= from && slot <= (to ?? from)) };
    });
  const names = cluster.ports.map(() => [] as string[]);
  for (let i = 0; names.some((n) => n.length < perMaster); i++) {
    if (i > 1000) throw new Error('could not find names for every master');
    const name = `${base}-${i}`;
    const slot = Number((await run(REDIS_CLI, ['-p', port, 'CLUSTER', 'KEYSLOT', name])).trim());
    const owner = ranges.find((r) => r.has(slot))?.owner;
    const bucket = names[cluster.ports.indexOf(owner ?? -1)];
    if (bucket && bucket.length < perMaster) bucket.push(name);
  }
  return names;
}

/**
 * A private Redis Cluster of `masters` (default 3) masters and no replicas on loopback, persistence
 * off: each node a `redis-server --cluster-enabled yes`, joined with
 * `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`. Fails (never skips) when
 * redis-server or redis-cli is missing. `await using cluster = await startRedisCluster()` stops it.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'tidewire-redis-cluster-'));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) ports.push(await freeClusterPort(taken));
  const procs: ChildProcess[] = [];
  let stopped = false;
  const kill = async (proc: ChildProcess): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(procs.map(kill));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) procs.push(await startClusterNode(port, dir));
    await run(REDIS_CLI, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    await waitForClusterOk(ports);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    urls: ports.map((p) => `redis://127.0.0.1:${p}`),
    ports,
    killNode: (index) => kill(procs[index]!),
    async restartNode(index) {
      procs[index] = await startClusterNode(ports[index]!, dir);
      await waitForClusterOk(ports);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

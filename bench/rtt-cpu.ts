/**
 * CPU per publish→ack round trip, by process: the server process and the client process each
 * measure `process.cpuUsage()` over `--n` sequential publishes (default 20,000, after 1,000 warm-up),
 * optionally with both pinned to core 0 (`--pin`). The RTT figure depends on the machine's load; CPU
 * per round trip much less, so this is the figure to compare while changing code (development only,
 * not part of `pnpm bench`).
 *
 *   pnpm --filter @tidewire/bench exec tsx rtt-cpu.ts [subject…] [--n 20000] [--pin] [--rounds 3]
 */
import { execFileSync } from 'node:child_process';
import { spawnChild } from './lib/ipc';
import { summarize } from './lib/stats';
import type { SubjectId } from './subjects';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const subjects = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--n') && !argv[i - 1]?.startsWith('--rounds')) as SubjectId[];
const n = opt('--n', 20_000);
const rounds = opt('--rounds', 3);
const pinned = argv.includes('--pin');

for (const subject of subjects.length > 0 ? subjects : (['tidewire-ws', 'ws'] as SubjectId[])) {
  const server = spawnChild('server.ts', 'server');
  const client = spawnChild('client.ts', 'client');
  const [{ url }] = await Promise.all([server.call<{ url: string }>('start', { subject }), client.call('load', { subject })]);
  await client.call('connectPush', { url });
  if (pinned) for (const pid of [server.pid, client.pid]) execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' });
  await client.call('rtt', { n: 1000, warmup: 200, timeoutMs: 60_000 }, 90_000);
  for (let r = 0; r < rounds; r++) {
    const before = await server.call<NodeJS.CpuUsage>('cpu');
    const res = await client.call<{ samples: number[]; cpuUs: number; userUs: number }>('rtt', { n, warmup: 0, timeoutMs: 120_000 }, 180_000);
    const after = await server.call<NodeJS.CpuUsage>('cpu');
    const serverUser = after.user - before.user;
    const serverUs = serverUser + after.system - before.system;
    const s = summarize(res.samples);
    console.log(
      `${subject}${pinned ? ' pinned' : ''}: RTT p50 ${s.p50.toFixed(0)} µs, p99 ${s.p99.toFixed(0)} µs; CPU per round trip: client ${(res.cpuUs / s.n).toFixed(1)} µs (user ${(res.userUs / s.n).toFixed(1)}), server ${(serverUs / s.n).toFixed(1)} µs (user ${(serverUser / s.n).toFixed(1)})`,
    );
  }
  await server.call('stop');
  await Promise.all([client.kill(), server.kill()]);
}

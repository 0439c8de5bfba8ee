/**
 * What Redis itself spent during a measured window: its CPU seconds (`INFO cpu`, main thread and
 * all) and the commands it ran (`INFO commandstats`), reset at the start. The cluster scenario logs
 * it after the publish → ack run, so the report says whether Redis or the nodes were the limit.
 */
import { createClient } from '@redis/client';

export interface RedisWindow {
  /** Redis CPU seconds (user + sys) during the window. */
  readonly cpuSec: number;
  /** Commands Redis ran, busiest first: name, calls, µs per call. */
  readonly commands: { name: string; calls: number; usecPerCall: number }[];
}

async function cpuSeconds(send: (args: string[]) => Promise<unknown>): Promise<number> {
  const info = String(await send(['INFO', 'cpu']));
  const read = (field: string): number => Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return read('used_cpu_user') + read('used_cpu_sys');
}

/** Start a window: reset Redis's command counters. @returns a function that ends it and reads the figures */
export async function redisWindow(url: string): Promise<() => Promise<RedisWindow>> {
  const client = createClient({ url });
  await client.connect();
  const send = (args: string[]): Promise<unknown> => client.sendCommand(args);
  await send(['CONFIG', 'RESETSTAT']);
  const cpu0 = await cpuSeconds(send);
  return async () => {
    try {
      const cpuSec = (await cpuSeconds(send)) - cpu0;
      const stats = String(await client.sendCommand(['INFO', 'commandstats']));
      const commands = [...stats.matchAll(/cmdstat_([\w|]+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/g)]
        .map((m) => ({ name: m[1]!, calls: Number(m[2]), usec: Number(m[3]), usecPerCall: Number(m[4]) }))
        .sort((a, b) => b.usec - a.usec)
        .map(({ name, calls, usecPerCall }) => ({ name, calls, usecPerCall }));
      return { cpuSec, commands };
    } finally {
      await client.close();
    }
  };
}

/** One line for the log: CPU per second of window and the five busiest commands. */
export function describeRedisWindow(w: RedisWindow, seconds: number): string {
  const top = w.commands
    .slice(0, 6)
    .map((c) => `${c.name} ${c.calls}× ${c.usecPerCall.toFixed(1)} µs`)
    .join(', ');
  return `Redis busy ${((100 * w.cpuSec) / seconds).toFixed(0)} % of one core (${w.cpuSec.toFixed(2)} CPU s in ${seconds.toFixed(1)} s); ${top}`;
}

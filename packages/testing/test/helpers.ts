import type { Channel, ChannelMessage, GapInfo } from '@tidewire/core';
import { vi } from 'vitest';

/** Everything one channel handle saw, in arrival order. */
export interface Recording {
  readonly messages: ChannelMessage[];
  readonly gaps: GapInfo[];
  /** `data` of every message, in order. */
  data(): unknown[];
  /** Offsets of every message, in order. */
  offsets(): number[];
}

/** Record a channel handle's messages and gaps. */
export function record(channel: Channel): Recording {
  const messages: ChannelMessage[] = [];
  const gaps: GapInfo[] = [];
  channel.on('message', (m) => messages.push(m));
  channel.on('gap', (g) => gaps.push(g));
  return { messages, gaps, data: () => messages.map((m) => m.data), offsets: () => messages.map((m) => m.offset) };
}

/** 1..n */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/**
 * Poll (in real time) until `check` passes; generous deadline — the kit's frames move on real
 * macrotasks even while its clock stands still.
 */
export const eventually = (check: () => void): Promise<void> => vi.waitFor(check, { timeout: 10_000, interval: 5 });

/** A settled-once tracker for promises: how often each settled, and how. */
export function settlements<T>(promises: readonly Promise<T>[]): { resolved: T[]; rejected: unknown[]; count: () => number } {
  const resolved: T[] = [];
  const rejected: unknown[] = [];
  for (const p of promises) p.then((v) => resolved.push(v), (e: unknown) => rejected.push(e));
  return { resolved, rejected, count: () => resolved.length + rejected.length };
}

import type { TidewireServer } from '@tidewire/server';

/** What every dashboard channel carries. */
export interface Sample {
  readonly value: number;
  /** Milliseconds since the epoch, when the sample was taken. */
  readonly at: number;
}

export const CHANNELS = ['metrics:cpu', 'metrics:mem', 'ticker:ACME'] as const;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * Fake live data, published server-side with `server.publish` several times a second:
 * CPU % and memory GiB as bounded random walks, a share price as a geometric walk.
 * Returns the function that stops it.
 */
export function startPublisher(server: TidewireServer, { intervalMs = 250 } = {}): () => void {
  let cpu = 35;
  let mem = 6.2;
  let price = 128.4;
  const timer = setInterval(() => {
    const at = Date.now();
    cpu = clamp(cpu + (Math.random() - 0.5) * 12, 2, 99);
    mem = clamp(mem + (Math.random() - 0.5) * 0.3, 2, 15.5);
    price = Math.max(1, price * (1 + (Math.random() - 0.5) * 0.006));
    const samples: [string, number][] = [
      ['metrics:cpu', Math.round(cpu * 10) / 10],
      ['metrics:mem', Math.round(mem * 100) / 100],
      ['ticker:ACME', Math.round(price * 100) / 100],
    ];
    for (const [channel, value] of samples) {
      server.publish(channel, { value, at } satisfies Sample).catch(() => clearInterval(timer)); // server closed
    }
  }, intervalMs);
  return () => clearInterval(timer);
}

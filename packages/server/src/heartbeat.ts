import type { Clock, Timer } from './clock';

/** What a heartbeat needs from its session. */
export interface HeartbeatHost {
  readonly clock: Clock;
  /** When the client was last heard from (ms, clock time). */
  lastSeen(): number;
  ping(): void;
  /** The client has been silent for `silentMs`: end the session. */
  dead(silentMs: number): void;
}

/**
 * Ping the client every `interval` ms and declare it dead after `2 × interval + 1 s` of silence
 * (protocol §9). One deadline timer, re-armed lazily for the remaining silence: no timer churn
 * per frame received.
 * @returns stops both timers
 */
export function startHeartbeat(host: HeartbeatHost, interval: number): () => void {
  const { clock } = host;
  let stopped = false;
  let pingTimer: Timer | undefined;
  let deadline: Timer | undefined;
  const ping = (): void => {
    host.ping();
    if (!stopped) pingTimer = clock.setTimeout(ping, interval);
  };
  const limit = 2 * interval + 1000;
  const check = (): void => {
    const silent = clock.now() - host.lastSeen();
    if (silent >= limit) return host.dead(silent);
    deadline = clock.setTimeout(check, limit - silent);
  };
  pingTimer = clock.setTimeout(ping, interval);
  deadline = clock.setTimeout(check, limit);
  return () => {
    stopped = true;
    clock.clearTimeout(pingTimer);
    clock.clearTimeout(deadline);
  };
}

import type { Clock, Timer } from './clock';

/** What a heartbeat needs from its session. */
export interface HeartbeatHost {
  readonly clock: Clock;
  /** When the client was last heard from (ms, clock time). */
  lastSeen(): number;
  ping(): void;
  /**
   * How much has left the send buffer towards the client so far (characters sent minus what is
   * still buffered; any unit that only grows when the client reads). Optional: without it only
   * frames from the client count.
   */
  drained?(): number;
  /** The client has been silent for `silentMs`: end the session. */
  dead(silentMs: number): void;
}

/**
 * Ping the client every `interval` ms and declare it dead after `2 × interval + 1 s` of silence
 * (protocol §9). One deadline timer, re-armed lazily for the remaining silence: no timer churn
 * per frame received.
 *
 * A client that is reading counts as alive too: while a frame bigger than the line can carry in
 * that time is being written, the pings wait behind it, so the client cannot answer them — but
 * the send buffer drains. When a check finds that bytes left the buffer since the previous check,
 * the silence counts from that check (a client that stops reading is then dropped at most one
 * allowance later than one that never read).
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
  let drained = host.drained?.() ?? 0;
  let drainedAt = -Infinity;
  const check = (): void => {
    const now = clock.now();
    const nowDrained = host.drained?.() ?? 0;
    if (nowDrained > drained) drainedAt = now;
    drained = nowDrained;
    const silent = now - Math.max(host.lastSeen(), drainedAt);
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

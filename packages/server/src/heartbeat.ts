import type { Clock, Timer } from './clock';
import { elapsed } from './clock';
import { lateGrace } from '@tidewire/core/protocol';

/** What a heartbeat needs from its session. */
export interface HeartbeatHost {
  readonly clock: Clock;
  /** When the client was last heard from (ms, clock time). */
  lastSeen(): number;
  ping(): void;
  /**
   * How much has been handed to the line so far (`sent`) and how much of it has left the send
   * buffer towards the client (`drained`: sent minus what is still buffered) — any unit in which
   * `drained` only grows when the client reads. Optional: without it only frames from the client count.
   */
  outflow?(): { readonly sent: number; readonly drained: number };
  /** The client has been silent for `silentMs`: end the session. */
  dead(silentMs: number): void;
}

/**
 * Queued bytes (characters) above which a draining buffer means "the client is reading something
 * big": far above a ping or a few small frames, which drain at once to any client, reading or not.
 */
export const READING_BACKLOG = 16 * 1024;

/**
 * Ping the client every `interval` ms and declare it dead after `2 × interval + 1 s` of silence
 * (protocol §9). One deadline timer, re-armed lazily for the remaining silence: no timer churn
 * per frame received.
 *
 * A client that is reading counts as alive too: while a frame bigger than the line can carry in
 * that time is being written, the pings wait behind it, so the client cannot answer them — but
 * the send buffer drains. The outflow is looked at on every ping and every check: when bytes
 * drained since the previous look while at least {@link READING_BACKLOG} were queued then, the
 * silence counts from this look. A backlog, not any movement: the pings themselves drain, and a
 * client that reads them but never answers must still be closed. One that stops reading is closed
 * at most one allowance after the last movement (bytes parked in kernel buffers and proxies reach
 * it after the server's buffer is empty, so the last movement is as late as it can be told).
 *
 * A check that fires late — this process's own event loop stalled — follows the late-deadline rule
 * (`lateGrace`, shared with the client): it yields, or waits a grace, so pongs that arrived during
 * the stall are read before the client is judged silent.
 * @returns stops both timers
 */
export function startHeartbeat(host: HeartbeatHost, interval: number): () => void {
  const { clock } = host;
  let stopped = false;
  let pingTimer: Timer | undefined;
  let deadline: Timer | undefined;
  const ping = (): void => {
    observe(elapsed(clock)); // before the ping, which would otherwise be the backlog it is judged by
    host.ping();
    if (!stopped) pingTimer = clock.setTimeout(ping, interval);
  };
  const limit = 2 * interval + 1000;
  let seen = host.outflow?.();
  let readingAt = -Infinity;
  const observe = (now: number): void => {
    const outflow = host.outflow?.();
    if (!outflow || !seen) return;
    if (outflow.drained > seen.drained && seen.sent - seen.drained >= READING_BACKLOG) readingAt = now;
    seen = outflow;
  };
  let due = 0;
  let graced = false;
  const arm = (ms: number): void => {
    due = elapsed(clock) + ms;
    graced = false;
    deadline = clock.setTimeout(check, ms);
  };
  const check = (): void => {
    const now = elapsed(clock);
    // Fired late (this process stalled): the pongs may be waiting unread — read them first.
    const grace = graced ? undefined : lateGrace(now - due);
    if (grace !== undefined) {
      graced = true;
      deadline = clock.setTimeout(check, grace);
      return;
    }
    observe(now);
    const silent = now - Math.max(host.lastSeen(), readingAt);
    if (silent >= limit) return host.dead(silent);
    arm(limit - silent);
  };
  pingTimer = clock.setTimeout(ping, interval);
  arm(limit);
  return () => {
    stopped = true;
    clock.clearTimeout(pingTimer);
    clock.clearTimeout(deadline);
  };
}

/** How long a line check (ping) may go unanswered (ms). */
export const PROBE_TIMEOUT = 3000;

/**
 * Bytes without a frame that count as a sign of life: part of a frame still arriving at 200 B/s or
 * more over the heartbeat allowance (at least 256 B, at most 16 KiB). Less — a proxy's SSE keep-alive
 * comments, empty long-poll answers, a stalled upstream trickling a byte a second — does not move the
 * heartbeat deadline, so a line that delivers nothing ends; a large frame arriving faster still keeps
 * it alive, whatever the heartbeat (docs/transports.md, "Liveness by bytes").
 * @param heartbeatMs the server's ping interval
 * @returns the bytes since the last frame that count as one sign of life
 */
export function liveBytes(heartbeatMs: number): number {
  return Math.min(16_384, Math.max(256, Math.round(0.2 * (heartbeatMs + Math.max(1000, heartbeatMs / 2)))));
}

/**
 * The heartbeat deadline as time left, so one timer can aim at an absolute deadline (last frame +
 * allowance): frames only move the last-frame time, and a late-firing timer in a throttled tab
 * re-checks the real time instead of declaring the line dead.
 * @param heartbeatMs the server's ping interval (from `connected`)
 * @param silentFor ms since the last frame
 * @returns ms left before the line counts as dead — the allowance is the interval plus half of
 *   it (at least 1 s); 0 or less: it is dead now
 */
export function heartbeatTimeLeft(heartbeatMs: number, silentFor: number): number {
  return heartbeatMs + Math.max(1000, heartbeatMs / 2) - silentFor;
}

/**
 * Bytes are arriving but no whole frame has for a heartbeat interval: a frame too big for the
 * line is being read, and the server's pings wait behind it, so our pongs cannot answer them in
 * time. An unprompted `pong` (protocol §9) tells the server we are alive; the server's own view
 * (its buffer draining) cannot see bytes parked in kernel buffers and proxies.
 * Called on every sign of bytes arriving.
 * @param reading whole frames received when bytes last started arriving without one, and since
 *   when (ms); updated in place
 * @param framesIn whole frames received so far
 * @param connected only a connected line sends the pong
 * @returns true when an unprompted pong is due now
 */
export function readingSignOfLife(reading: { frames: number; since: number }, framesIn: number, now: number, heartbeatMs: number, connected: boolean): boolean {
  if (framesIn !== reading.frames) {
    reading.frames = framesIn;
    reading.since = now;
  } else if (connected && now - reading.since >= heartbeatMs) {
    reading.since = now;
    return true;
  }
  return false;
}

/** A deadline whose timer fires later than this (ms) first yields one task, so I/O that already arrived is handled first. */
export const LATE_AFTER = 20;
/** A deadline whose timer fires later than this (ms) ran far behind schedule (a blocked loop, a frozen tab, a wake from sleep). */
export const FAR_BEHIND_AFTER = 500;
/** The longest grace (ms) given to a deadline that ran far behind: half its lateness, at most this. */
export const MAX_GRACE = 2000;

/**
 * The late-deadline rule both ends follow (docs/client.md "Late deadlines"; the reference server's
 * heartbeat, docs/protocol.md §9): a deadline judged late judges fresh information. Later than
 * {@link LATE_AFTER} ms, it first yields one task so frames that already arrived (a pong, an ack)
 * are read; later than {@link FAR_BEHIND_AFTER} ms, it waits half its lateness (at most
 * {@link MAX_GRACE} ms), so an answer whose round trip the stall delayed can still come in.
 * @param late ms the deadline's timer ran behind its aim
 * @returns the grace in ms to wait before deciding (0: one task), or undefined: decide now
 */
export function lateGrace(late: number): number | undefined {
  return late > LATE_AFTER ? (late > FAR_BEHIND_AFTER ? Math.min(MAX_GRACE, late / 2) : 0) : undefined;
}

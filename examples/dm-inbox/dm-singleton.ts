import { sessionSecret } from './directory';
import { createDmServer } from './dm-server';
import type { DmServer } from './dm-server';

/**
 * Where the one server lives: on `globalThis`, because `next dev` re-evaluates edited modules on
 * hot reload, and a module-level `const` would then start a second Tidewire server next to the one
 * that holds every open session (and split the conversations between the two).
 */
const SLOT = Symbol.for('tidewire.examples.dm-inbox.server');
type Slot = { [SLOT]?: Promise<DmServer> };

/** Heartbeat from `DM_INBOX_HEARTBEAT_MS` (the end-to-end test shortens it); unset: the server's default. */
function heartbeatFromEnv(): number | undefined {
  const ms = Number(process.env.DM_INBOX_HEARTBEAT_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * The process's direct-messages server, created on first use (by the first request that needs it).
 * @returns the same `DmServer` for every route handler and every hot reload of this process
 */
export function dmServer(): Promise<DmServer> {
  const slot = globalThis as Slot;
  return (slot[SLOT] ??= createDmServer({ secret: sessionSecret(), heartbeat: heartbeatFromEnv() }));
}

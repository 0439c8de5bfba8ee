import { randomFillSync } from 'node:crypto';

/** Random bytes drawn ahead, so an id costs a slice of a buffer, not a call into the system's generator. */
const POOL_BYTES = 16 * 1024;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let used = POOL_BYTES;

/**
 * Ids for server-side publishes that came without one: 21 characters of the URL-safe alphabet
 * (`A-Z a-z 0-9 - _`), 126 random bits, like nanoid's (client publish ids, session ids), so all
 * ids share one alphabet and length and none reveals how many messages this process has published.
 * The first 21 characters of 16 random bytes in base64url: each is 6 uniformly random bits. Half the
 * cost of `nanoid()` (~0.22 vs ~0.5 µs, a measurable part of a server publish loop).
 * @returns a fresh id
 */
export function nextMessageId(): string {
  if (used + 16 > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const id = pool.toString('base64url', used, used + 16);
  used += 16;
  return id.slice(0, 21);
}

import { nanoid } from 'nanoid';

/**
 * Ids for server-side publishes that came without one. Such an id is made for
 * this publish only, so it never needs to be unguessable or globally unique,
 * just unique within this server process: a random per-process prefix plus a
 * counter is enough and, unlike a nanoid per message, costs no random bytes.
 */
let prefix: string | undefined; // drawn on first use: importing this module has no side effects
let counter = 0;

export function nextMessageId(): string {
  prefix ??= `s${nanoid(10)}.`;
  return prefix + (counter++).toString(36);
}

import { messageKey } from './protocol/frames';
import { nanoid } from 'nanoid';

/** With `echo: false`, own publish ids remembered at most (oldest forgotten first). */
const MAX_OWN_IDS = 1000;

/**
 * A publish id: nanoid's 21 URL-safe characters (126 random bits). The server drops a publish
 * whose (channel, id) it has already stored, and message frames show every subscriber the
 * publisher's id, so ids must never collide and must not be guessable from earlier ones.
 */
export function randomId(): string {
  return nanoid();
}

/**
 * With `echo: false` (`own` defined): remember a publish of ours by channel and id, so its message
 * is skipped when it comes back (ClientHost's `skip_`, which forgets it then) — or, published where
 * we do not listen or refused, forgotten when it is the oldest of 1000 (a Set iterates in
 * insertion order). By channel too: ids are per channel, and another publisher's message with the
 * same id on another channel is not ours.
 */
export function rememberOwnId(own: Set<string> | undefined, channel: string, id: string): void {
  if (own?.add(messageKey(channel, id)) && own.size > MAX_OWN_IDS) own.delete(own.values().next().value!);
}


import { nanoid } from 'nanoid';

/**
 * Ids for server-side publishes that came without one: nanoid, like every other id the
 * SDK makes (client publish ids, session ids), so all ids share one alphabet and length
 * and none reveals how many messages this process has published.
 */
export function nextMessageId(): string {
  return nanoid();
}

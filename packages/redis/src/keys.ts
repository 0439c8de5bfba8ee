/**
 * Every key of one channel embeds the same `{…}` hash tag, so in Redis Cluster
 * they live in one slot: the publish script may touch all of them atomically,
 * and the channel's sharded pub/sub channel is served by the same shard.
 */
export interface ChannelKeys {
  /** Hash `{ e: epoch, s: head offset }`; its loss (expiry, flush) is what starts a new epoch. */
  readonly meta: string;
  /** Stream of the channel's history; entry id `<offset>-0`, fields `t` (ms, Redis clock) and `b` (body). */
  readonly stream: string;
  /** Pub/sub channel (sharded where supported) carrying `<offset>:<epoch>:<body>`. */
  readonly notify: string;
  /** Dedupe key of one publish (its `dedupeKey`: the id within its publisher's scope), holding `"<epoch>:<offset>"`, expiring after the dedupe TTL. */
  dedupe(id: string): string;
  /** The channel's presence (see presenceScript.ts); the same hash tag, so one script touches all of it. */
  readonly presence: PresenceKeys;
}

/** Where one channel's presence members live. */
export interface PresenceKeys {
  /** Hash clientId → member JSON (`{ clientId, user, info? }`). */
  readonly members: string;
  /** Sorted set clientId → expiry (ms, Redis clock), pushed forward by the owning node's refresh. */
  readonly expiries: string;
  /** Counter bumped by every join and leave: watchers use it to spot a missed change. */
  readonly version: string;
  /** Pub/sub channel (sharded where supported) carrying `<version>:<j|l>:<member JSON>`. */
  readonly notify: string;
}

export function channelKeys(prefix: string, channel: string): ChannelKeys {
  const base = `${prefix}:{${channel}}`;
  return {
    meta: `${base}:meta`,
    stream: `${base}:stream`,
    notify: `${base}:notify`,
    dedupe: (id) => `${base}:id:${id}`,
    presence: {
      members: `${base}:presence`,
      expiries: `${base}:presence:exp`,
      version: `${base}:presence:v`,
      notify: `${base}:presence:notify`,
    },
  };
}

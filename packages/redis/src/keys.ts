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
  /** Pub/sub channel (sharded where supported) carrying `*<first>:<last>:<epoch>:[<body>,…]` (see {@link pubsubName}). */
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
  /** `<incarnation>:<count>`, the count bumped by every join and leave: watchers use it to spot a missed change. */
  readonly version: string;
  /** Pub/sub channel (sharded where supported) carrying `<incarnation>:<version>:<j|l>:<member JSON>` (see {@link pubsubName}). */
  readonly notify: string;
}

/**
 * A pub/sub channel's name. Keys live in the connection's database, but Redis pub/sub (classic and
 * sharded) is one namespace for the whole server: without the database number, deployments on
 * `/0` and `/1` with the same prefix would hear each other. Database 0 (the only one on a Cluster)
 * keeps the bare name; another ends in `:db<n>`, which no database-0 name ends with.
 */
export function pubsubName(name: string, database: number): string {
  return database === 0 ? name : `${name}:db${database}`;
}

/** The session relay's inbox of node `nodeId` (sessionRelay.ts). */
export function relayInbox(prefix: string, nodeId: string, database: number): string {
  return pubsubName(`${prefix}:{node:${nodeId}}:inbox`, database);
}

/** @param database the connection's Redis database number (in pub/sub names when not 0) */
export function channelKeys(prefix: string, channel: string, database = 0): ChannelKeys {
  const base = `${prefix}:{${channel}}`;
  return {
    meta: `${base}:meta`,
    stream: `${base}:stream`,
    notify: pubsubName(`${base}:notify`, database),
    dedupe: (id) => `${base}:id:${id}`,
    presence: {
      members: `${base}:presence`,
      expiries: `${base}:presence:exp`,
      version: `${base}:presence:v`,
      notify: pubsubName(`${base}:presence:notify`, database),
    },
  };
}

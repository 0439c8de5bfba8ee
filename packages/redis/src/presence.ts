import { randomBytes } from 'node:crypto';
import type { PresenceMember } from '@tidewire/core/protocol';
import type { PresenceListener, PresenceWatch } from '@tidewire/server';
import type { RedisConnections } from './connections';
import { channelKeys, type PresenceKeys } from './keys';
import { decodeChange, decodeMember, PresenceFeed, type PresenceSnapshot } from './presenceFeed';
import { presenceScript, SWEEP_BATCH } from './presenceScript';
import type { PubsubChannels, PubsubHandler } from './pubsubChannels';

/** Presence timing: a member lives `ttl` ms past its owning node's last refresh; refreshes run every `refresh` ms. */
export interface PresenceTiming {
  readonly prefix: string;
  /** The Redis database number: in the pub/sub names when not 0 (keys.ts). */
  readonly database: number;
  readonly ttl: number;
  readonly refresh: number;
}

/** One channel whose members this process watches: its feed and the one pub/sub subscription it rides on. */
interface Watched {
  readonly feed: PresenceFeed;
  readonly keys: PresenceKeys;
  /** watch calls holding it (including those still in progress). */
  refs: number;
  readonly subscribed: Promise<void>;
  readonly handler: PubsubHandler;
}

/** This process's incarnation candidates start with it: 12 random url-safe characters (no `:`, which separates notification fields). */
const incarnationSource = randomBytes(9).toString('base64url');
let incarnationCount = 0;
/** A candidate incarnation id, used only by a change that finds the keys lost (presenceScript.ts): unique per process by its count. */
const newIncarnation = (): string => incarnationSource + (++incarnationCount).toString(36);

/** Sweep calls after one touch at most (× SWEEP_BATCH members): a safety bound, never reached in practice. */
const MAX_SWEEPS_PER_REFRESH = 1000;

/** Refreshes after the pub/sub connection came back, ms after its `ready` (the resubscription may land late). */
const REFRESH_AFTER_RECONNECT = [0, 1000, 5000];

type Op = 'enter' | 'restore' | 'leave' | 'touch' | 'sweep' | 'read';

/**
 * Presence in Redis (capability `presence`; layout in docs/scaling.md, "Presence"). Per channel a
 * hash of members, a sorted set of their expiries and a version counter, all under the channel's
 * hash tag, changed only by one Lua script. The node that entered a member owns it: it pushes the
 * member's expiry forward every `refresh` ms, so a killed node's members expire after `ttl` and a
 * surviving node's next refresh sweeps them and announces their `leave`. Changes reach watchers on
 * every node over one (sharded) pub/sub subscription per channel per process, reference-counted.
 *
 * A Redis stall must not read as deaths: one refresh at a time per process (ticks are skipped while
 * one is pending, so none pile up behind a paused Redis), a refresh never sweeps this process's own
 * members, and it sweeps other nodes' only when its previous one ran recently (presenceScript.ts).
 */
export class RedisPresence {
  readonly #redis: RedisConnections;
  readonly #pubsub: PubsubChannels;
  readonly #timing: PresenceTiming;
  /** Members this process entered, per channel: the ones it refreshes, and re-enters if Redis lost them. */
  readonly #own = new Map<string, Map<string, PresenceMember>>();
  readonly #watched = new Map<string, Watched>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #interval: ReturnType<typeof setInterval>;
  readonly #report: (error: Error) => void;
  /** The refresh in progress (with any follow-up asked for meanwhile), if any. */
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;
  /** Per channel, when (Redis clock, ms) this process's last touch of it ran: a sweep needs a recent one. */
  readonly #touchedAt = new Map<string, number>();
  /**
   * The longest gap between two of this process's touches of a channel after which the second may
   * still sweep: halfway between the regular gap (`refresh`) and the point (`ttl`) where its own
   * members would have expired, so timer slack does not stop sweeps and a stall does.
   */
  readonly #maxTouchGap: number;

  constructor(redis: RedisConnections, pubsub: PubsubChannels, timing: PresenceTiming, report: (error: Error) => void) {
    this.#redis = redis;
    this.#pubsub = pubsub;
    this.#timing = timing;
    this.#report = report;
    this.#maxTouchGap = Math.floor((timing.ttl + timing.refresh) / 2);
    // A tick while a refresh is pending is skipped: behind a stalled Redis they would only queue up.
    this.#interval = setInterval(() => void (this.#refreshing ?? this.refresh()), timing.refresh);
    this.#interval.unref?.();
  }

  async enter(channel: string, member: PresenceMember): Promise<void> {
    await this.#run(channel, 'enter', [member.clientId, JSON.stringify(member)]);
    // Only once stored: a member Redis never got must not be refreshed (and re-entered) forever.
    let own = this.#own.get(channel);
    if (!own) this.#own.set(channel, (own = new Map()));
    own.set(member.clientId, member);
  }

  async leave(channel: string, clientId: string): Promise<void> {
    // Stop refreshing first: should the script fail (Redis away), the member expires on its own.
    const own = this.#own.get(channel);
    own?.delete(clientId);
    if (own?.size === 0) this.#own.delete(channel);
    await this.#run(channel, 'leave', [clientId]);
  }

  async watch(channel: string, listener: PresenceListener): Promise<PresenceWatch> {
    const watched = this.#acquire(channel);
    try {
      await watched.feed.started();
    } catch (e) {
      this.#release(channel);
      throw this.#redis.classify(e);
    }
    const watch = watched.feed.watch(listener);
    let active = true;
    return {
      members: watch.members,
      unsubscribe: () => {
        if (!active) return;
        active = false;
        watch.unsubscribe();
        this.#release(channel);
      },
    };
  }

  /**
   * Push this process's members' expiries forward, sweep other nodes' expired members (announcing
   * their `leave`), re-enter own members Redis no longer has (swept while this node was cut off,
   * or lost with a restarted Redis), and re-read watched channels whose version moved without us.
   * One script call per channel this process has members in or watches. Never throws.
   *
   * One at a time: called while one is in progress, it runs once more after it (however many
   * calls came meanwhile), and the returned promise settles after that.
   * @returns a promise that resolves when the refresh (and its follow-up, if any) is done
   */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    const run = async (): Promise<void> => {
      try {
        do {
          this.#refreshAgain = false;
          await this.#refreshAll();
        } while (this.#refreshAgain);
      } finally {
        this.#refreshing = undefined;
      }
    };
    return (this.#refreshing = run());
  }

  /**
   * The pub/sub connection is back: changes may have been lost, and Redis may have lost members.
   * Every watched channel is re-read at once, whatever the versions say, and refreshed (which
   * re-reads where the version moved) 0, 1 and 5 s later, in case the resubscription lands late.
   */
  reconnected(): void {
    for (const channel of this.#watched.keys()) this.resubscribed(channel);
    for (const delay of REFRESH_AFTER_RECONNECT) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        void this.refresh();
      }, delay);
      timer.unref?.();
      this.#timers.add(timer);
    }
  }

  /** The channel's change subscription was lost and made again (e.g. its Cluster slot moved): re-read it. */
  resubscribed(channel: string): void {
    this.#watched.get(channel)?.feed.resync().catch((e: unknown) => this.#report(this.#redis.classify(e)));
  }

  close(): void {
    clearInterval(this.#interval);
    for (const timer of this.#timers) clearTimeout(timer);
    for (const watched of this.#watched.values()) watched.feed.close();
    this.#watched.clear();
    this.#own.clear();
    this.#touchedAt.clear();
  }

  async #refreshAll(): Promise<void> {
    const channels = new Set([...this.#own.keys(), ...this.#watched.keys()]);
    for (const channel of this.#touchedAt.keys()) if (!channels.has(channel)) this.#touchedAt.delete(channel);
    await Promise.all([...channels].map((channel) => this.#refreshChannel(channel).catch((e: unknown) => this.#report(this.#redis.classify(e)))));
  }

  async #refreshChannel(channel: string): Promise<void> {
    const ids = [...(this.#own.get(channel)?.keys() ?? [])];
    const since = String(this.#touchedAt.get(channel) ?? 0);
    const touched = (await this.#run(channel, 'touch', [since, String(this.#maxTouchGap), ...ids])) as [string, number, string[], number, number];
    const [, , missing, now] = touched;
    let [incarnation, version, , , swept] = touched;
    this.#touchedAt.set(channel, Number(now));
    // A full batch: more may have expired (a dead node with a big room). Sweep on, one short call
    // at a time, so they all leave within this refresh (the documented ttl + refresh), not one
    // batch per refresh. Bounded: each call removes a batch, and nothing new expires this fast.
    for (let calls = 0; Number(swept) >= SWEEP_BATCH && calls < MAX_SWEEPS_PER_REFRESH; calls++) {
      [incarnation, version, swept] = (await this.#run(channel, 'sweep', [])) as [string, number, number];
    }
    for (const clientId of missing) {
      // Read again after the await: a member left meanwhile must not come back. `restore` keeps a
      // member that an `enter` with newer info stored meanwhile.
      const member = this.#own.get(channel)?.get(clientId);
      if (member) await this.#run(channel, 'restore', [clientId, JSON.stringify(member)]);
    }
    await this.#watched.get(channel)?.feed.check(String(incarnation), Number(version));
  }

  #acquire(channel: string): Watched {
    let watched = this.#watched.get(channel);
    if (!watched) {
      const keys = channelKeys(this.#timing.prefix, channel, this.#timing.database).presence;
      // Called only once subscribed, long after `feed` below exists.
      const handler: PubsubHandler = (payload) => {
        const change = decodeChange(payload);
        if (change) feed.change(change);
      };
      // Subscribed again after its Cluster slot moved: changes may have been missed, re-read.
      const subscribed = this.#pubsub.subscribe(keys.notify, handler, () => this.resubscribed(channel));
      // Read the members only once subscribed: no change after the snapshot can then be missed.
      const feed = new PresenceFeed(async () => {
        await subscribed;
        return this.#snapshot(channel);
      });
      watched = { feed, keys, refs: 0, subscribed, handler };
      this.#watched.set(channel, watched);
    }
    watched.refs++;
    return watched;
  }

  #release(channel: string): void {
    const watched = this.#watched.get(channel);
    if (!watched || --watched.refs > 0) return;
    this.#watched.delete(channel);
    watched.feed.close();
    this.#pubsub.release(watched.keys.notify, watched.handler, watched.subscribed);
  }

  async #snapshot(channel: string): Promise<PresenceSnapshot> {
    const [incarnation, version, flat] = (await this.#run(channel, 'read', [])) as [string, number, string[]];
    const members: PresenceMember[] = [];
    for (let i = 1; i < flat.length; i += 2) {
      const member = decodeMember(String(flat[i]));
      if (member) members.push(member);
    }
    return { incarnation: String(incarnation), version: Number(version), members };
  }

  #run(channel: string, op: Op, args: readonly string[]): Promise<unknown> {
    const keys = channelKeys(this.#timing.prefix, channel, this.#timing.database).presence;
    const { ttl } = this.#timing;
    return this.#redis.eval(presenceScript, [keys.members, keys.expiries, keys.version], [
      op,
      String(ttl),
      String(2 * ttl),
      keys.notify,
      this.#redis.sharded ? 'SPUBLISH' : 'PUBLISH',
      newIncarnation(),
      ...args,
    ]);
  }
}

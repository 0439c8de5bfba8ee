/**
 * Redis Cluster resharding, seen from the subscriber side. When a hash slot moves to another master
 * (`redis-cli --cluster reshard`, rebalancing after adding a master), Redis 7 drops every sharded
 * subscription of that slot on the old master. node-redis (5.x) is meant to subscribe them again on
 * the new one, but when that fails it only emits `sharded-shannel-moved-error`, and in tests it
 * often does not notice at all (no rediscover, its books still name the old master): the channel
 * would stay silent for the life of the process. So the broker checks for itself: every
 * SLOT_CHECK_INTERVAL it asks any node for the slot owners (`CLUSTER SLOTS`, one command whatever
 * the number of channels) and reports each subscribed name whose slot changed owner, which is then
 * subscribed again (pubsubChannels.ts) and caught up from Redis.
 */

/** How often (ms) the slot owners are compared; a moved channel is resubscribed within about this. */
export const SLOT_CHECK_INTERVAL = 2000;

/** CRC16 (XMODEM) as Redis Cluster computes key slots. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The hash slot of a key or shard channel: of its `{tag}` when it has a non-empty one. */
export function keySlot(name: string): number {
  const open = name.indexOf('{');
  const close = open < 0 ? -1 : name.indexOf('}', open + 1);
  const hashed = close > open + 1 ? name.slice(open + 1, close) : name;
  return crc16(Buffer.from(hashed)) % 16384;
}

/** `CLUSTER SLOTS` → a lookup slot → owning master (`host:port` and node id), or undefined for a reply it cannot read. */
export function slotOwners(reply: unknown): ((slot: number) => string | undefined) | undefined {
  if (!Array.isArray(reply)) return undefined;
  // One entry per slot: a lookup per subscribed name stays O(1) however fragmented the ranges are.
  const owners = new Array<string | undefined>(16384);
  for (const range of reply as unknown[]) {
    if (!Array.isArray(range) || !Array.isArray(range[2])) return undefined;
    const [host, port, id] = range[2] as unknown[];
    const owner = `${String(host)}:${String(port)} ${String(id ?? '')}`;
    const from = Math.max(0, Number(range[0]));
    const to = Math.min(16383, Number(range[1]));
    for (let slot = from; slot <= to; slot++) owners[slot] = owner;
  }
  return (slot) => owners[slot];
}

/**
 * Compares, on a timer, the owner of every subscribed name's slot with the owner it had at the
 * previous check, and reports the names whose slot moved. A check that fails (Redis away) is
 * skipped: the next one compares with the last owners known.
 */
export class SlotWatch {
  readonly #owners = new Map<string, string>();
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #ask: () => Promise<unknown>;
  readonly #names: () => Iterable<string>;
  readonly #moved: (name: string) => void;
  #checking = false;
  /** Names were subscribed during a check: check again after it. */
  #again = false;
  #soon: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /**
   * @param ask the `CLUSTER SLOTS` reply (rejects while Redis is away)
   * @param names the shard channels subscribed now
   * @param moved called with each name whose slot changed owner since the previous check
   */
  constructor(ask: () => Promise<unknown>, names: () => Iterable<string>, moved: (name: string) => void, interval = SLOT_CHECK_INTERVAL) {
    this.#ask = ask;
    this.#names = names;
    this.#moved = moved;
    this.#timer = setInterval(() => void this.check(), interval);
    this.#timer.unref?.();
  }

  /**
   * A name was just subscribed: learn its slot's owner now, not at the next tick — a slot that
   * moved before its first check would look like it had always been there.
   */
  subscribed(): void {
    if (this.#checking) this.#again = true;
    else if (!this.#soon) {
      this.#soon = setTimeout(() => {
        this.#soon = undefined;
        void this.check();
      }, 0);
      this.#soon.unref?.();
    }
  }

  /** One comparison now (the timer's). Never throws. */
  async check(): Promise<void> {
    if (this.#checking) return void (this.#again = true);
    this.#checking = true;
    this.#again = false;
    try {
      const owner = slotOwners(await this.#ask());
      if (!owner) return;
      const names = new Set(this.#names());
      for (const name of this.#owners.keys()) if (!names.has(name)) this.#owners.delete(name);
      for (const name of names) {
        const now = owner(keySlot(name));
        if (now === undefined) continue; // the slot is unassigned mid-move: compare next time
        const before = this.#owners.get(name);
        this.#owners.set(name, now);
        if (before !== undefined && before !== now) this.#moved(name);
      }
    } catch {
      // Redis away: the reconnect path catches up; the next check compares again.
    } finally {
      this.#checking = false;
      if (this.#again && !this.#closed) this.subscribed();
    }
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.#owners.clear();
  }
}

import { createHash } from 'node:crypto';

/**
 * The channel Lua scripts. Each runs atomically in Redis, and touches only keys of
 * one channel (one hash tag), so they work unchanged on Redis Cluster.
 */

/**
 * Shared prologue: the Redis clock (every node agrees on it, unlike the processes' clocks) and age
 * trimming. Every path that reads history (publish, resume, range, history pages) trims first, so
 * nothing older than `history.ttl` is ever read back — not only what a bounded trim per publish
 * reached (a burst followed by a quiet spell kept its aged entries). Entries are stored in offset
 * order stamped with the Redis clock: one read when the oldest is still young, the 8 oldest read
 * when it is not (a busy channel ages about one per publish: the cost per publish stays what it
 * was), and a binary search past those — O(log n) reads, whatever the stream holds (MAXLEN bounds n).
 *
 * OOM: with `maxmemory` and `noeviction`, Redis refuses a (flag-less) script only at its *first*
 * write, and only when that command is deny-oom (`HSET`, `SET`, `XADD`, `ZADD`, `INCR`…; not
 * `PEXPIRE`, `DEL`, `XTRIM`); once a script wrote anything, every later write goes through. So in
 * every script that can grow memory the first write must be a deny-oom one — a `PEXPIRE` first
 * would let a whole publish through a full Redis, which then grows without bound. Hence the
 * `PEXPIRE meta` after the data writes, never before.
 */
const PROLOGUE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function offset_of(entry)
  return tonumber(string.match(entry[1], '^(%d+)'))
end
local function young(entry, cutoff)
  return entry ~= nil and tonumber(entry[2][2]) >= cutoff
end
local function trim_aged(stream, cutoff)
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
  if first == nil or young(first, cutoff) then return end
  -- A busy channel ages about one entry per publish: the first young one is nearly always among the oldest few.
  local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 8)
  for i = 2, #oldest do
    if young(oldest[i], cutoff) then
      redis.call('XTRIM', stream, 'MINID', offset_of(oldest[i]))
      return
    end
  end
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
  if not young(last, cutoff) then
    redis.call('XTRIM', stream, 'MAXLEN', 0)
    return
  end
  -- The entry at lo is aged, the one at hi young; offsets between are all stored (only the oldest are ever trimmed).
  local lo, hi = offset_of(oldest[#oldest]), offset_of(last)
  while hi - lo > 1 do
    local mid = math.floor((lo + hi) / 2)
    if young(redis.call('XRANGE', stream, mid .. '-0', mid .. '-0')[1], cutoff) then hi = mid else lo = mid end
  end
  redis.call('XTRIM', stream, 'MINID', hi)
end
-- The caller refreshes meta's TTL (PEXPIRE) after its data writes (OOM, see scripts.ts).
local function epoch_of(meta, stream, new_epoch)
  local epoch = redis.call('HGET', meta, 'e')
  if not epoch then
    -- The metadata is really gone (expired or flushed): a new epoch, and history
    -- of any older epoch is meaningless under it.
    epoch = new_epoch
    redis.call('HSET', meta, 'e', epoch, 's', 0)
    redis.call('DEL', stream)
  end
  return epoch
end
`;

/**
 * Publish one or several messages of one channel in one atomic step, each in order: dedupe check
 * (an id already stored answers its original position, `duplicate` 1) → next offset → XADD →
 * remember the id; then one notification for everything the call stored. Shared by the burst, as
 * the script is atomic: the clock read, the epoch lookup, the head (read once, counted here,
 * written once), the age trim, the key expiries and the notification. One script call per burst
 * instead of one per publish: the per-call costs (round trip, script start, command parsing on
 * both sides) are paid once, and so is every Redis command that is not per message.
 *
 * The dedupe check and the id's record are one `SET … NX PX … GET` where the server has it
 * (Redis ≥ 7.0, `set_get` = '1'; the broker asks the server's version at startup), `GET` then
 * `SET … PX` before. The first write is always that `SET`, the `XADD` or a new epoch's `HSET`, all
 * deny-oom, so a Redis over `maxmemory` (noeviction) refuses the whole call before it stores anything. The stream is trimmed with `MAXLEN ~` (whole stream nodes, cheap): it may keep
 * some entries beyond `history size`, which every read ignores (see readHistory, RESUME_SCRIPT,
 * RANGE_SCRIPT), so history behaves as if exactly `size` entries were kept.
 *
 * The notification (see codec.ts, decodeNotification): `*<first>:<last>:<epoch>:[<body>,…]`, the
 * stored messages' bodies in offset order (their offsets are consecutive: first..last).
 * KEYS: meta, stream, then the dedupe key of each message. ARGV: new epoch, history size, history
 * ttl ms, dedupe ttl ms, meta ttl ms, notify channel, publish command, set_get ('1' | '0'), then
 * body and fresh ('1' skips dedupe) of each message.
 * Returns { epoch of the stored messages ('' if none), offset of the first stored (0 if none), then
 * for each duplicate: its index (1-based), stored epoch, stored offset } — the stored messages'
 * offsets follow from the first one (consecutive, in order), so a burst with no retried id answers
 * two values, not three per message (see decodePublishReply).
 */
export const PUBLISH_BATCH_SCRIPT = `${PROLOGUE}
local meta, stream = KEYS[1], KEYS[2]
local new_epoch = ARGV[1]
local size, history_ttl, dedupe_ttl, meta_ttl = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local notify, publish, set_get = ARGV[6], ARGV[7], ARGV[8] == '1'
local dups = {}
local bodies = {}
local epoch, now, head, first = nil, nil, nil, nil
local function start()
  epoch = epoch_of(meta, stream, new_epoch)
  now = now_ms()
  head = tonumber(redis.call('HGET', meta, 's')) or 0
  first = head + 1
end
for i = 1, #KEYS - 2 do
  local dedupe, body, fresh = KEYS[i + 2], ARGV[7 + 2 * i], ARGV[8 + 2 * i]
  local seen = nil
  if fresh ~= '1' then
    if set_get then
      -- Claims the id for the offset this message gets if it is new; answers the stored position if not.
      if not epoch then start() end
      seen = redis.call('SET', dedupe, epoch .. ':' .. (head + 1), 'NX', 'PX', dedupe_ttl, 'GET')
    else
      seen = redis.call('GET', dedupe)
    end
  end
  if seen then
    local colon = string.find(seen, ':', 1, true)
    dups[#dups + 1] = i
    dups[#dups + 1] = string.sub(seen, 1, colon - 1)
    dups[#dups + 1] = tonumber(string.sub(seen, colon + 1))
  else
    if not epoch then start() end
    head = head + 1
    local offset = head
    redis.call('XADD', stream, 'MAXLEN', '~', size, offset .. '-0', 't', now, 'b', body)
    if fresh ~= '1' and not set_get then
      redis.call('SET', dedupe, epoch .. ':' .. offset, 'PX', dedupe_ttl)
    end
    bodies[#bodies + 1] = body
  end
end
if #bodies > 0 then
  redis.call('HSET', meta, 's', head)
  redis.call(publish, notify, '*' .. first .. ':' .. head .. ':' .. epoch .. ':[' .. table.concat(bodies, ',') .. ']')
  trim_aged(stream, now - history_ttl)
  redis.call('PEXPIRE', stream, history_ttl)
end
-- Last, not first (see OOM in the prologue): the first write must be the deny-oom SET, XADD or HSET.
if epoch then redis.call('PEXPIRE', meta, meta_ttl) end
if #bodies == 0 then return { '', 0, unpack(dups) } end
return { epoch, first, unpack(dups) }
`;

/**
 * Where a subscriber continues: the channel's epoch (made if missing) and
 * head, and — when `since` is in this epoch and history still covers it (at
 * most `history size` entries back: the stream may hold more, see
 * PUBLISH_BATCH_SCRIPT) — every entry after it. KEYS: meta, stream. ARGV: new
 * epoch, meta ttl ms, history ttl ms, since epoch, since offset, history size,
 * '1' when there is a since ('0' = none: a live start). The flag is separate
 * because a since whose epoch is '' (or any other epoch not the channel's) is a
 * position, not "none": answered as a live start it would skip what came after
 * it with no gap.
 * Returns { epoch, head, status ('live' | 'recovered' | 'lost'), entries }.
 */
export const RESUME_SCRIPT = `${PROLOGUE}
local meta, stream = KEYS[1], KEYS[2]
local new_epoch, meta_ttl, history_ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local since_epoch, since, size = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local epoch = epoch_of(meta, stream, new_epoch)
redis.call('PEXPIRE', meta, meta_ttl)
local head = tonumber(redis.call('HGET', meta, 's'))
if ARGV[7] ~= '1' then return { epoch, head, 'live', {} } end
if since_epoch ~= epoch or since > head or head - since > size then return { epoch, head, 'lost', {} } end
if since == head then return { epoch, head, 'recovered', {} } end
trim_aged(stream, now_ms() - history_ttl)
local entries = redis.call('XRANGE', stream, (since + 1) .. '-0', head .. '-0')
if #entries ~= head - since then return { epoch, head, 'lost', {} } end
return { epoch, head, 'recovered', entries }
`;

/**
 * The entries of `epoch` with offsets in [from, to] that history still holds: those the stream
 * has, no older than `history ttl` and no older than `history size` entries before the head (the
 * stream may hold more, see PUBLISH_BATCH_SCRIPT) — none when the channel's epoch is another one
 * (the metadata was lost and remade since the caller read it: the stream's offsets are the new
 * epoch's, and handing them over as the old one's would put another message in a lost one's place).
 * KEYS: meta, stream. ARGV: from, to, history size, history ttl ms, epoch.
 * Returns the XRANGE reply.
 */
export const RANGE_SCRIPT = `${PROLOGUE}
if redis.call('HGET', KEYS[1], 'e') ~= ARGV[5] then return {} end
local head = tonumber(redis.call('HGET', KEYS[1], 's')) or 0
local from = math.max(tonumber(ARGV[1]), head - tonumber(ARGV[3]) + 1)
local to = tonumber(ARGV[2])
if from > to then return {} end
trim_aged(KEYS[2], now_ms() - tonumber(ARGV[4]))
return redis.call('XRANGE', KEYS[2], from .. '-0', to .. '-0')
`;

/**
 * One history page (capability `history`): the stream's entry ids are `<offset>-0`, so the bounds
 * `after < offset < before` are an id range within the last `history size` offsets, read newest
 * first (`XREVRANGE`) or oldest first (`XRANGE`), after the age trim. KEYS: meta, stream. ARGV:
 * after, before, count, 'forward' | 'backward', history size, history ttl ms, new epoch, meta ttl ms,
 * max page bytes (the entries' field bytes; a page always holds at least one entry).
 * A channel read for the first time gets its epoch here (as from the memory broker): a page's
 * position must be one a later subscribe can resume from — with no epoch, what is published after
 * the page could not be told apart from a live start.
 * Returns { epoch, head, entries, 1 when cut by the byte bound (more remain) else 0 }.
 */
export const HISTORY_SCRIPT = `${PROLOGUE}
local meta, stream = KEYS[1], KEYS[2]
local epoch = epoch_of(meta, stream, ARGV[7])
redis.call('PEXPIRE', meta, ARGV[8])
local head = tonumber(redis.call('HGET', meta, 's')) or 0
local low = math.max(tonumber(ARGV[1]) + 1, head - tonumber(ARGV[5]) + 1)
local high = math.min(head, tonumber(ARGV[2]) - 1)
if high < low then return { epoch, head, {}, 0 } end
trim_aged(stream, now_ms() - tonumber(ARGV[6]))
-- Read in small steps and stop at the page's byte bound: one call never copies more than about
-- max bytes (plus one entry), however big the messages — a long script stalls Redis for every node.
local count, max_bytes, forward = tonumber(ARGV[3]), tonumber(ARGV[9]), ARGV[4] == 'forward'
local page, bytes = {}, 0
while #page < count and low <= high do
  local step = math.min(16, count - #page)
  local got
  if forward then got = redis.call('XRANGE', stream, low .. '-0', high .. '-0', 'COUNT', step)
  else got = redis.call('XREVRANGE', stream, high .. '-0', low .. '-0', 'COUNT', step) end
  if #got == 0 then break end
  for _, entry in ipairs(got) do
    local size = 0
    for _, v in ipairs(entry[2]) do size = size + #v end
    if #page > 0 and bytes + size > max_bytes then return { epoch, head, page, 1 } end
    bytes = bytes + size
    page[#page + 1] = entry
    local offset = tonumber(string.match(entry[1], '^(%d+)'))
    if forward then low = offset + 1 else high = offset - 1 end
  end
  if #got < step then break end
end
return { epoch, head, page, 0 }
`;

export interface Script {
  readonly source: string;
  readonly sha: string;
}

export const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });

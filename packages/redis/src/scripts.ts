import { createHash } from 'node:crypto';

/**
 * The two Lua scripts. Each runs atomically in Redis, and touches only keys of
 * one channel (one hash tag), so they work unchanged on Redis Cluster.
 */

/**
 * Shared prologue: the Redis clock (every node agrees on it, unlike the
 * processes' clocks) and age trimming of the stream's oldest entries. Bounded
 * work per call (`most` entries: 8 per message stored); MAXLEN bounds the rest, and the key's own TTL
 * drops an idle channel's whole history.
 */
const PROLOGUE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function trim_aged(stream, cutoff, most)
  -- Usually the oldest entry is still young: one entry read, nothing to do.
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  if #first == 0 or tonumber(first[1][2][2]) >= cutoff then return end
  local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', most)
  local last = nil
  for _, entry in ipairs(oldest) do
    if tonumber(entry[2][2]) < cutoff then last = entry[1] else break end
  end
  if last then
    redis.call('XTRIM', stream, 'MINID', tonumber(string.match(last, '^(%d+)')) + 1)
  end
end
local function epoch_of(meta, stream, new_epoch, meta_ttl)
  local epoch = redis.call('HGET', meta, 'e')
  if not epoch then
    -- The metadata is really gone (expired or flushed): a new epoch, and history
    -- of any older epoch is meaningless under it.
    epoch = new_epoch
    redis.call('HSET', meta, 'e', epoch, 's', 0)
    redis.call('DEL', stream)
  end
  redis.call('PEXPIRE', meta, meta_ttl)
  return epoch
end
`;

/**
 * Publish one or several messages of one channel in one atomic step, each in order: dedupe check
 * (an id already stored answers its original position, `duplicate` 1) → next offset → XADD →
 * remember the id → notify. Shared by the burst, as the script is atomic: the clock read, the epoch
 * lookup, the head (read once, counted here, written once), the age trim and the key expiries. One
 * script call per burst instead of one per publish: the per-call costs (round trip, script start,
 * command parsing on both sides) are paid once, and so is every Redis command that is not per message.
 * KEYS: meta, stream, then the dedupe key of each message. ARGV: new epoch, history size, history
 * ttl ms, dedupe ttl ms, meta ttl ms, notify channel, publish command, then body and fresh ('1'
 * skips dedupe) of each message.
 * Returns { epoch, offset, duplicate (0|1) } for each message, flattened.
 */
export const PUBLISH_BATCH_SCRIPT = `${PROLOGUE}
local meta, stream = KEYS[1], KEYS[2]
local new_epoch = ARGV[1]
local size, history_ttl, dedupe_ttl, meta_ttl = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local notify, publish = ARGV[6], ARGV[7]
local out = {}
local epoch, now, head, stored = nil, nil, nil, 0
for i = 1, #KEYS - 2 do
  local dedupe, body, fresh = KEYS[i + 2], ARGV[6 + 2 * i], ARGV[7 + 2 * i]
  local seen = nil
  if fresh ~= '1' then seen = redis.call('GET', dedupe) end
  if seen then
    local colon = string.find(seen, ':', 1, true)
    out[#out + 1] = string.sub(seen, 1, colon - 1)
    out[#out + 1] = tonumber(string.sub(seen, colon + 1))
    out[#out + 1] = 1
  else
    if not epoch then
      epoch = epoch_of(meta, stream, new_epoch, meta_ttl)
      now = now_ms()
      head = tonumber(redis.call('HGET', meta, 's')) or 0
    end
    head = head + 1
    stored = stored + 1
    local offset = head
    redis.call('XADD', stream, 'MAXLEN', size, offset .. '-0', 't', now, 'b', body)
    if fresh ~= '1' then
      redis.call('SET', dedupe, epoch .. ':' .. offset, 'PX', dedupe_ttl)
    end
    redis.call(publish, notify, offset .. ':' .. epoch .. ':' .. body)
    out[#out + 1] = epoch
    out[#out + 1] = offset
    out[#out + 1] = 0
  end
end
if epoch then
  redis.call('HSET', meta, 's', head)
  trim_aged(stream, now - history_ttl, 8 * stored)
  redis.call('PEXPIRE', stream, history_ttl)
end
return out
`;

/**
 * Where a subscriber continues: the channel's epoch (made if missing) and
 * head, and — when `since` is in this epoch and history still covers it —
 * every entry after it. KEYS: meta, stream. ARGV: new epoch, meta ttl ms,
 * history ttl ms, since epoch ('' = none), since offset.
 * Returns { epoch, head, status ('live' | 'recovered' | 'lost'), entries }.
 */
export const RESUME_SCRIPT = `${PROLOGUE}
local meta, stream = KEYS[1], KEYS[2]
local new_epoch, meta_ttl, history_ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local since_epoch, since = ARGV[4], tonumber(ARGV[5])
local epoch = epoch_of(meta, stream, new_epoch, meta_ttl)
local head = tonumber(redis.call('HGET', meta, 's'))
if since_epoch == '' then return { epoch, head, 'live', {} } end
if since_epoch ~= epoch or since > head then return { epoch, head, 'lost', {} } end
if since == head then return { epoch, head, 'recovered', {} } end
trim_aged(stream, now_ms() - history_ttl, 8)
local entries = redis.call('XRANGE', stream, (since + 1) .. '-0', head .. '-0')
if #entries ~= head - since then return { epoch, head, 'lost', {} } end
return { epoch, head, 'recovered', entries }
`;

export interface Script {
  readonly source: string;
  readonly sha: string;
}

export const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });

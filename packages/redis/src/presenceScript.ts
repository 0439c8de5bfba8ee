import { script } from './scripts';

/**
 * Every presence change of one channel, as one Lua script (one `SCRIPT LOAD`, one cache entry),
 * run atomically in Redis on the channel's presence keys only — one hash tag, so one Redis Cluster
 * slot, and the sharded notify channel lives in that slot too.
 *
 * Each call first sweeps members whose expiry (Redis clock) has passed — at most 100 per call, so
 * a script never holds Redis long; later calls take the rest — and announces their `leave`. A
 * member expires when the node that entered it stopped refreshing it (killed, or cut off from
 * Redis for longer than the TTL).
 *
 * Every join and leave bumps the version counter and publishes `<version>:<j|l>:<member JSON>`,
 * so a watcher that sees a version other than the next one knows it missed something and re-reads.
 *
 * KEYS: members (hash), expiries (zset), version (string).
 * ARGV: op, member ttl ms, key ttl ms, notify channel, publish command, then the op's arguments:
 * - `enter` clientId, member JSON → 1 (replaces an earlier entry, always announces `join`)
 * - `leave` clientId → 1, or 0 for an unknown id (nothing announced)
 * - `touch` clientId… (the calling node's own members) → { version, clientIds no longer present }
 * - `read` → { version, [clientId, member JSON, …] }
 */
export const PRESENCE_SCRIPT = `
local members, expiries, version = KEYS[1], KEYS[2], KEYS[3]
local op, ttl, key_ttl, notify, publish = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function announce(action, json)
  local v = redis.call('INCR', version)
  redis.call(publish, notify, v .. ':' .. action .. ':' .. json)
end

-- Keys outlive the members' TTL (key_ttl = 2 x ttl) so a surviving node sweeps, and announces,
-- a dead node's members before the keys themselves vanish.
local function keep()
  redis.call('PEXPIRE', members, key_ttl)
  redis.call('PEXPIRE', expiries, key_ttl)
  redis.call('PEXPIRE', version, key_ttl)
end

local gone = redis.call('ZRANGEBYSCORE', expiries, '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(gone) do
  redis.call('ZREM', expiries, id)
  local json = redis.call('HGET', members, id)
  if json then
    redis.call('HDEL', members, id)
    announce('l', json)
  end
end

if op == 'enter' then
  redis.call('HSET', members, ARGV[6], ARGV[7])
  redis.call('ZADD', expiries, now + ttl, ARGV[6])
  announce('j', ARGV[7])
  keep()
  return 1
elseif op == 'leave' then
  local json = redis.call('HGET', members, ARGV[6])
  if not json then return 0 end
  redis.call('HDEL', members, ARGV[6])
  redis.call('ZREM', expiries, ARGV[6])
  announce('l', json)
  return 1
elseif op == 'touch' then
  local missing = {}
  for i = 6, #ARGV do
    if redis.call('HEXISTS', members, ARGV[i]) == 1 then
      redis.call('ZADD', expiries, now + ttl, ARGV[i])
    else
      missing[#missing + 1] = ARGV[i]
    end
  end
  if #ARGV >= 6 then keep() end
  return { tonumber(redis.call('GET', version) or '0'), missing }
else
  return { tonumber(redis.call('GET', version) or '0'), redis.call('HGETALL', members) }
end
`;

export const presenceScript = script(PRESENCE_SCRIPT);

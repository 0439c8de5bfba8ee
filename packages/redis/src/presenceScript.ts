import { script } from './scripts';

/**
 * At most this many expired members are removed per script call, so one call never holds Redis
 * long; a call that removed this many is followed at once by another (presence.ts), so a dead
 * node's members all leave within one refresh, however many it held.
 */
export const SWEEP_BATCH = 100;

/**
 * Every presence change of one channel, as one Lua script (one `SCRIPT LOAD`, one cache entry),
 * run atomically in Redis on the channel's presence keys only — one hash tag, so one Redis Cluster
 * slot, and the sharded notify channel lives in that slot too.
 *
 * Only `touch` — each node's periodic refresh — sweeps members whose expiry (Redis clock) has
 * passed, at most SWEEP_BATCH per call (a script never holds Redis long; the caller follows a full
 * batch with `sweep` calls at once until one removes fewer), and
 * announces their `leave`. It first pushes the caller's own members' expiries forward, so a node
 * never sweeps a member it still holds. And it sweeps only when the caller's previous touch of the
 * channel ran at most `max gap` ms earlier (Redis clock): a caller that was itself cut off — by a
 * Redis stall (`CLIENT PAUSE`, a slow fork, SIGSTOP) or its own slow link — cannot tell a dead
 * node's members from those whose owners were stalled with it, so its first touch after the gap
 * only extends; the sweep waits for its next touch, by when every live node has refreshed too.
 *
 * Every join and leave bumps the version counter and publishes `<version>:<j|l>:<member JSON>`,
 * so a watcher that sees a version other than the next one knows it missed something and re-reads.
 * A member that is already present with the same JSON is never announced again.
 *
 * KEYS: members (hash), expiries (zset), version (string).
 * ARGV: op, member ttl ms, key ttl ms, notify channel, publish command, then the op's arguments:
 * - `enter` clientId, member JSON → 1 (stored and announced `join`), or 0 when the member was
 *   already present with that JSON (its expiry is pushed forward, nothing announced)
 * - `restore` clientId, member JSON → as `enter`, but a member present with any JSON is kept as it
 *   is (a refresh re-entering a swept member must not overwrite a newer `enter`)
 * - `leave` clientId → 1, or 0 for an unknown id (nothing announced)
 * - `touch` previous touch's time (Redis ms, 0 for none), max gap ms, clientId… (the calling node's
 *   own members) → { version, clientIds no longer present, now (Redis ms), members swept }
 * - `sweep` → { version, members swept }: only the sweep (at most SWEEP_BATCH), for the calls that
 *   follow a touch whose sweep was full — right after it, so no stall can have come between
 * - `read` → { version, [clientId, member JSON, …] }
 */
export const PRESENCE_SCRIPT = `
local SWEEP_BATCH = ${SWEEP_BATCH}
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

local function sweep()
  local gone = redis.call('ZRANGEBYSCORE', expiries, '-inf', now, 'LIMIT', 0, SWEEP_BATCH)
  for _, id in ipairs(gone) do
    redis.call('ZREM', expiries, id)
    local json = redis.call('HGET', members, id)
    if json then
      redis.call('HDEL', members, id)
      announce('l', json)
    end
  end
  return #gone
end

if op == 'enter' or op == 'restore' then
  local id, json = ARGV[6], ARGV[7]
  local held = redis.call('HGET', members, id)
  -- ZADD first: deny-oom, so a Redis full at maxmemory (noeviction) refuses an enter whole (scripts.ts, OOM).
  redis.call('ZADD', expiries, now + ttl, id)
  keep()
  if held == json or (held and op == 'restore') then return 0 end
  redis.call('HSET', members, id, json)
  announce('j', json)
  return 1
elseif op == 'leave' then
  local json = redis.call('HGET', members, ARGV[6])
  if not json then return 0 end
  redis.call('HDEL', members, ARGV[6])
  redis.call('ZREM', expiries, ARGV[6])
  announce('l', json)
  return 1
elseif op == 'touch' then
  local since, max_gap = tonumber(ARGV[6]), tonumber(ARGV[7])
  local missing = {}
  -- First, on purpose (OOM, see scripts.ts): a touch only moves existing entries and removes
  -- expired ones, so a Redis full at maxmemory (noeviction) must not refuse it — refused, every
  -- member would expire. A non-deny-oom write first lets it through.
  if #ARGV >= 8 then keep() end
  for i = 8, #ARGV do
    if redis.call('HEXISTS', members, ARGV[i]) == 1 then
      redis.call('ZADD', expiries, now + ttl, ARGV[i])
    else
      missing[#missing + 1] = ARGV[i]
    end
  end
  local swept = 0
  if since > 0 and now >= since and now - since <= max_gap then swept = sweep() end
  return { tonumber(redis.call('GET', version) or '0'), missing, now, swept }
elseif op == 'sweep' then
  local swept = sweep()
  return { tonumber(redis.call('GET', version) or '0'), swept }
else
  return { tonumber(redis.call('GET', version) or '0'), redis.call('HGETALL', members) }
end
`;

export const presenceScript = script(PRESENCE_SCRIPT);

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
 * Every join and leave bumps the version counter and publishes `<incarnation>:<version>:<j|l>:<member
 * JSON>`, so a watcher that sees a version other than the next one knows it missed something and
 * re-reads. The counter restarts when the keys are lost (Redis restarted or flushed, or 2 × ttl
 * without a refresh), so a number alone could come back equal to a stale view's: the version key
 * also holds a random incarnation id (a candidate from the caller, kept by the first change after
 * a loss), and a version is equal only with the same id. The id also tells one keyspace's
 * notifications from another's (a deployment in another database on the same server).
 * A member that is already present with the same JSON is never announced again.
 *
 * KEYS: members (hash), expiries (zset), version (string).
 * ARGV: op, member ttl ms, key ttl ms, notify channel, publish command, incarnation candidate (no
 * `:`), then the op's arguments:
 * - `enter` clientId, member JSON → 1 (stored and announced `join`), or 0 when the member was
 *   already present with that JSON (its expiry is pushed forward, nothing announced)
 * - `restore` clientId, member JSON → as `enter`, but a member present with any JSON is kept as it
 *   is (a refresh re-entering a swept member must not overwrite a newer `enter`)
 * - `leave` clientId → 1, or 0 for an unknown id (nothing announced)
 * - `touch` previous touch's time (Redis ms, 0 for none), max gap ms, clientId… (the calling node's
 *   own members) → { incarnation, version, clientIds no longer present, now (Redis ms), members swept }
 * - `sweep` → { incarnation, version, members swept }: only the sweep (at most SWEEP_BATCH), for the calls that
 *   follow a touch whose sweep was full — right after it, so no stall can have come between
 * - `read` → { incarnation, version, [clientId, member JSON, …] }
 * (incarnation '' and version 0: no change since the keys were last lost)
 */
export const PRESENCE_SCRIPT = `
local SWEEP_BATCH = ${SWEEP_BATCH}
local members, expiries, version = KEYS[1], KEYS[2], KEYS[3]
local op, ttl, key_ttl, notify, publish, incarnation = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- The version key holds '<incarnation>:<count>'. Nothing (keys lost) or another release's bare
-- count: no incarnation, count 0 — the next change starts a new incarnation.
local function current()
  local v = redis.call('GET', version)
  local colon = v and string.find(v, ':', 1, true)
  if not colon then return '', 0 end
  return string.sub(v, 1, colon - 1), tonumber(string.sub(v, colon + 1)) or 0
end

local function announce(action, json)
  local id, n = current()
  if id == '' then id = incarnation end
  n = n + 1
  redis.call('SET', version, id .. ':' .. n)
  redis.call('PEXPIRE', version, key_ttl)
  redis.call(publish, notify, id .. ':' .. n .. ':' .. action .. ':' .. json)
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
  local id, json = ARGV[7], ARGV[8]
  local held = redis.call('HGET', members, id)
  -- ZADD first: deny-oom, so a Redis full at maxmemory (noeviction) refuses an enter whole (scripts.ts, OOM).
  redis.call('ZADD', expiries, now + ttl, id)
  keep()
  if held == json or (held and op == 'restore') then return 0 end
  redis.call('HSET', members, id, json)
  announce('j', json)
  return 1
elseif op == 'leave' then
  local json = redis.call('HGET', members, ARGV[7])
  if not json then return 0 end
  redis.call('HDEL', members, ARGV[7])
  redis.call('ZREM', expiries, ARGV[7])
  announce('l', json)
  return 1
elseif op == 'touch' then
  local since, max_gap = tonumber(ARGV[7]), tonumber(ARGV[8])
  local missing = {}
  -- First, on purpose (OOM, see scripts.ts): a touch only moves existing entries and removes
  -- expired ones, so a Redis full at maxmemory (noeviction) must not refuse it — refused, every
  -- member would expire. A non-deny-oom write first lets it through.
  if #ARGV >= 9 then keep() end
  for i = 9, #ARGV do
    if redis.call('HEXISTS', members, ARGV[i]) == 1 then
      redis.call('ZADD', expiries, now + ttl, ARGV[i])
    else
      missing[#missing + 1] = ARGV[i]
    end
  end
  local swept = 0
  if since > 0 and now >= since and now - since <= max_gap then swept = sweep() end
  local id, n = current()
  return { id, n, missing, now, swept }
elseif op == 'sweep' then
  local swept = sweep()
  local id, n = current()
  return { id, n, swept }
else
  local id, n = current()
  return { id, n, redis.call('HGETALL', members) }
end
`;

export const presenceScript = script(PRESENCE_SCRIPT);

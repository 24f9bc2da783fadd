"""The Lua scripts that steer the queue: pause and resume, cancel, retry, clear.

They share the prelude of :mod:`.scripts` (its key layout and helpers) and
follow its token rule: while not paused there are at least as many tokens as
queued jobs; while paused, none to run now.
"""

from __future__ import annotations

from .scripts import _PRELUDE

#: ARGV: P, now. Drops the tokens to run now; scheduled ones stay.
PAUSE = (
    _PRELUDE
    + r"""
redis.call('HSET', P .. 'meta', 'paused', ARGV[2])
redis.call('DEL', TQ)
return 1
"""
)

#: ARGV: P, token.
RESUME = (
    _PRELUDE
    + r"""
redis.call('HDEL', P .. 'meta', 'paused')
local missing = queued() - redis.call('LLEN', TQ) - redis.call('ZCARD', TS)
push_tokens(missing, ARGV[2])
return 1
"""
)

#: ARGV: P, now, the state they end in ('cancelled' or 'vanished'), then ids
#: ('*' alone: every queued job). Returns how many.
CANCEL = (
    _PRELUDE
    + r"""
local ids, to = {}, ARGV[3]
if ARGV[4] == '*' then
  ids = redis.call('ZRANGE', P .. 's:queued', 0, -1)
else
  for i = 4, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local n = 0
for _, id in ipairs(ids) do
  local state = redis.call('HGET', jk(id), 'state')
  if state == 'queued' then
    dequeue(id)
    move(id, 'queued', to)
    redis.call('HSET', jk(id), 'finished_at', ARGV[2])
    n = n + 1
  elseif state == 'done' and to == 'vanished' and ARGV[4] ~= '*' then
    -- A gone source's thumbnails are removed with it: it is no longer done.
    move(id, 'done', to)
    redis.call('ZREM', P .. 'finished_at', id)
    redis.call('HSET', jk(id), 'finished_at', ARGV[2])
    n = n + 1
  end
end
if n > 0 then trim_tokens() end
return n
"""
)

#: ARGV: P, now, now_us, token, then ids ('*' alone: every failed job).
#: Named jobs come back from failed, cancelled or vanished. Returns how many.
RETRY = (
    _PRELUDE
    + r"""
local now, now_us, token = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local ids, from = {}, {failed = true, cancelled = true, vanished = true}
if ARGV[5] == '*' then
  ids = redis.call('ZRANGE', P .. 's:failed', 0, -1)
  from = {failed = true}
else
  for i = 5, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local n = 0
for _, id in ipairs(ids) do
  local s = redis.call('HGET', jk(id), 'state')
  if s and from[s] then
    move(id, s, 'queued')
    redis.call('ZREM', P .. 'failed_at', id)
    redis.call('ZREM', P .. 'finished_at', id)
    redis.call('HDEL', jk(id), 'finished_at', 'error', 'owner')
    redis.call('HSET', jk(id), 'attempts', 0, 'queued_at', now, 'source_fault', 1, 'deaths', 0)
    enqueue(id, now_us, now_us)
    n = n + 1
  end
end
push_tokens(n, token)
return n
"""
)

#: ARGV: P, cutoff ('' = any age), everything (1/0), limit, then states.
#: Forgets at most ``limit`` jobs per call (the caller repeats), so one
#: call never holds Redis for long. Returns how many it forgot.
CLEAR = (
    _PRELUDE
    + r"""
local cutoff, everything, limit = ARGV[2], ARGV[3] == '1', tonumber(ARGV[4])
local n, touched_queued = 0, false
local function forget(id, state)
  local key, src, target, b =
    unpack(redis.call('HMGET', jk(id), 'key', 'source', 'target', 'batch'))
  dequeue(id)
  if key then redis.call('HDEL', P .. 'keys', key) end
  if src then
    local left = {}
    for other in string.gmatch(redis.call('HGET', P .. 'sources', src) or '', '[^,]+') do
      if other ~= tostring(id) then left[#left + 1] = other end
    end
    if #left > 0 then
      redis.call('HSET', P .. 'sources', src, table.concat(left, ','))
    else
      redis.call('HDEL', P .. 'sources', src)
      if target and redis.call('HGET', P .. 'targets', target) == src then
        redis.call('HDEL', P .. 'targets', target)
      end
    end
  end
  for _, z in ipairs({'s:' .. state, 'all', 'leases', 'failed_at', 'finished_at'}) do
    redis.call('ZREM', P .. z, id)
  end
  redis.call('HINCRBY', P .. 'counts', state, -1)
  if b then redis.call('HINCRBY', P .. 'batch:' .. b, state, -1) end
  redis.call('DEL', jk(id), P .. 'hist:' .. id)
end
for i = 5, #ARGV do
  local state = ARGV[i]
  local ids = redis.call('ZRANGE', P .. 's:' .. state, 0, -1)
  for _, id in ipairs(ids) do
    if n >= limit then break end
    local fin = tonumber(redis.call('HGET', jk(id), 'finished_at') or '')
    if cutoff == '' or (fin and fin < tonumber(cutoff)) then
      forget(id, state)
      n = n + 1
      if state == 'queued' then touched_queued = true end
    end
  end
end
if n < limit and everything then
  redis.call('DEL', TQ, TS)
elseif touched_queued then
  trim_tokens()
end
return n
"""
)

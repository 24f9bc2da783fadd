"""The Lua scripts: every state change of a job, with its counters and tokens, in one step.

Redis runs a script atomically, so each one below checks the state a job
starts from and changes the job's hash, its per-state index, the counters
(total and per batch), the lease set and the Huey tokens together; two
workers (or a worker and ``recover``) can never both win. Outcomes also
check the claim's fencing token: a worker whose lease was taken and whose
job was claimed again records nothing.

Keys (``P`` is the prefix, ``thumbgen:``; :mod:`.keys` documents them):
``P:job:<id>`` hash per job, ``P:hist:<id>`` its tries (JSON, newest last),
``P:s:<state>`` ids per state (score = id), ``P:all`` every id,
``P:counts`` jobs per state, ``P:batch:<b>`` per batch,
``P:ready`` due queued jobs (score = -priority, member = due time and id
zero-padded so equal priorities sort oldest due first), ``P:wait`` queued
jobs not yet due (score = due time), ``P:leases`` running ids by lease
expiry, ``P:failed_at`` / ``P:finished_at`` by finish time, ``P:keys`` job
key -> id, ``P:sources`` source -> ids, ``P:targets`` target -> owner,
``P:specs`` digest -> options, ``P:meta`` (schema, paused),
``P:workers`` and ``P:worker:<id>``. Huey's own keys hold the tokens:
``huey.redis.thumbgen`` (a list) and ``huey.schedule.thumbgen``.

Times come from the caller (the protocol passes ``now``) and are written
into JSON as the caller's text, so no precision is lost in Lua's numbers.
Hosts must keep their clocks in step (NTP), as any lease scheme needs.
"""

from __future__ import annotations

# Common functions, prepended to each script. ``TQ``/``TS``: Huey's token
# list and schedule; tokens are alike, so one payload serves every push.
_PRELUDE = r"""
local P = ARGV[1]
local TQ = 'huey.redis.thumbgen'
local TS = 'huey.schedule.thumbgen'
local function jk(id) return P .. 'job:' .. id end
local function member(due_us, id) return string.format('%017d:%012d', due_us, id) end
local function move(id, old, new)
  redis.call('ZREM', P .. 's:' .. old, id)
  redis.call('ZADD', P .. 's:' .. new, id, id)
  redis.call('HINCRBY', P .. 'counts', old, -1)
  redis.call('HINCRBY', P .. 'counts', new, 1)
  local b = redis.call('HGET', jk(id), 'batch')
  if b then
    redis.call('HINCRBY', P .. 'batch:' .. b, old, -1)
    redis.call('HINCRBY', P .. 'batch:' .. b, new, 1)
  end
  redis.call('HSET', jk(id), 'state', new)
end
local function paused() return redis.call('HEXISTS', P .. 'meta', 'paused') == 1 end
local function push_tokens(n, data)
  if n <= 0 or paused() then return end
  local chunk = {}
  for _ = 1, math.min(n, 1000) do chunk[#chunk + 1] = data end
  while n > 0 do
    local k = math.min(n, 1000)
    redis.call('LPUSH', TQ, unpack(chunk, 1, k))
    n = n - k
  end
end
local function queued() return tonumber(redis.call('HGET', P .. 'counts', 'queued') or '0') end
local function trim_tokens()
  local surplus = redis.call('LLEN', TQ) - queued()
  if surplus > 0 then redis.call('LTRIM', TQ, surplus, -1) end
end
-- Puts a job in the ready set (or the wait set if due later).
local function enqueue(id, due_us, now_us)
  local m = member(due_us, id)
  redis.call('HSET', jk(id), 'qm', m)
  if due_us > now_us then
    redis.call('ZADD', P .. 'wait', due_us / 1e6, m)
  else
    redis.call('ZADD', P .. 'ready', -tonumber(redis.call('HGET', jk(id), 'priority') or '0'), m)
  end
end
local function dequeue(id)
  local m = redis.call('HGET', jk(id), 'qm')
  if m then
    redis.call('ZREM', P .. 'ready', m)
    redis.call('ZREM', P .. 'wait', m)
    redis.call('HDEL', jk(id), 'qm')
  end
end
-- Ends the open try: its JSON ends in ',null,null,null]' until then.
local OPEN = ',null,null,null]'
local function close_try(id, now, outcome, err_json)
  local h = P .. 'hist:' .. id
  local last = redis.call('LINDEX', h, -1)
  if last and string.sub(last, -#OPEN) == OPEN then
    local head = string.sub(last, 1, #last - #OPEN)
    redis.call('LSET', h, -1, head .. ',' .. now .. ',"' .. outcome .. '",' .. err_json .. ']')
  end
end
-- Whether the caller still holds job ``id`` (running, its owner, its fence).
local function holds(id, owner, fence)
  local s, o, f = unpack(redis.call('HMGET', jk(id), 'state', 'owner', 'fence'))
  return s == 'running' and o == owner and (fence == '' or f == fence)
end
local function free_worker(owner, done)
  local w = P .. 'worker:' .. owner
  if redis.call('EXISTS', w) == 1 then
    redis.call('HDEL', w, 'current', 'job')
    if done then redis.call('HINCRBY', w, 'jobs_done', 1) end
  end
end
-- Ends the caller's try with an outcome: out of running, no owner, no lease,
-- the try closed, the worker free (what finish, fail and vanish share).
local function end_try(id, owner, state, now, err_json)
  move(id, 'running', state)
  redis.call('HDEL', jk(id), 'owner')
  redis.call('ZREM', P .. 'leases', id)
  close_try(id, now, state, err_json)
  free_worker(owner, true)
end
-- The queue must still be there: after a FLUSHALL, a failover to an empty
-- replica or an evicted key, a script would quietly start a new queue.
if redis.call('HEXISTS', P .. 'meta', 'schema') == 0 then
  return redis.error_reply('THUMBGEN_QUEUE_LOST')
end
"""

#: ARGV: P, now, now_us, batch, priority, digest, options JSON, token,
#: the submitting host, n inserts, then one record per insert (key, source, rel_dir, target,
#: size, mtime_ns, version joined by NUL bytes, which no Linux path contains), then
#: n requeues, then (id, expected state, size, mtime_ns, version) each.
#: Returns {queued, lost ids...}: ids of jobs another submit queued first.
#: Inserts are the bulk of a big ``add``: their index entries go in a few
#: variadic ZADDs rather than one call per job.
SUBMIT = (
    _PRELUDE
    + r"""
local now, now_us, batch, prio = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local digest = ARGV[6]
redis.call('HSETNX', P .. 'specs', digest, ARGV[7])
local token, host = ARGV[8], ARGV[9]
local n = tonumber(ARGV[10])
local queued_n, lost = 0, {}
local bk = P .. 'batch:' .. batch
local score = -tonumber(prio)
local first = redis.call('INCRBY', P .. 'nextid', n) - n
local all, queued_ids, ready = {}, {}, {}
local function flush()
  if #all > 0 then
    redis.call('ZADD', P .. 'all', unpack(all))
    redis.call('ZADD', P .. 's:queued', unpack(queued_ids))
    redis.call('ZADD', P .. 'ready', unpack(ready))
    all, queued_ids, ready = {}, {}, {}
  end
end
for k = 1, n do
  local rec = ARGV[10 + k]
  local f, pos = {}, 1
  for _ = 1, 6 do
    local z = string.find(rec, '\0', pos, true)
    f[#f + 1] = string.sub(rec, pos, z - 1)
    pos = z + 1
  end
  f[7] = string.sub(rec, pos)
  local key, src, target = f[1], f[2], f[4]
  local id = first + k
  if redis.call('HSETNX', P .. 'keys', key, id) == 0 then
    lost[#lost + 1] = tonumber(redis.call('HGET', P .. 'keys', key))
  else
    local m = member(now_us, id)
    redis.call('HSET', jk(id), 'key', key, 'source', src, 'rel_dir', f[3], 'target', target,
      'spec', digest, 'size', f[5], 'mtime_ns', f[6], 'version', f[7], 'state', 'queued',
      'attempts', 0,
      'batch', batch, 'queued_at', now, 'priority', prio, 'source_fault', 1, 'qm', m,
      'host', host)
    if redis.call('HSETNX', P .. 'sources', src, id) == 0 then
      redis.call('HSET', P .. 'sources', src, redis.call('HGET', P .. 'sources', src) .. ',' .. id)
    end
    redis.call('HSETNX', P .. 'targets', target, src)
    all[#all + 1] = id
    all[#all + 1] = id
    queued_ids[#queued_ids + 1] = id
    queued_ids[#queued_ids + 1] = id
    ready[#ready + 1] = score
    ready[#ready + 1] = m
    if #all >= 2000 then flush() end
    queued_n = queued_n + 1
  end
end
flush()
if queued_n > 0 then
  redis.call('HINCRBY', P .. 'counts', 'queued', queued_n)
  redis.call('HINCRBY', bk, 'queued', queued_n)
end
local i = 11 + n
n = tonumber(ARGV[i])
i = i + 1
for _ = 1, n do
  local id, expect, size, mtime, version = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3],
    ARGV[i + 4]
  i = i + 5
  if redis.call('HGET', jk(id), 'state') ~= expect then
    lost[#lost + 1] = tonumber(id)
  else
    local old_batch = redis.call('HGET', jk(id), 'batch')
    move(id, expect, 'queued')
    if old_batch and old_batch ~= batch then
      redis.call('HINCRBY', P .. 'batch:' .. old_batch, 'queued', -1)
      redis.call('HINCRBY', bk, 'queued', 1)
    end
    redis.call('ZREM', P .. 'failed_at', id)
    redis.call('ZREM', P .. 'finished_at', id)
    redis.call('HDEL', jk(id), 'owner', 'started_at', 'finished_at', 'error', 'outputs', 'info')
    redis.call('HSET', jk(id), 'size', size, 'mtime_ns', mtime, 'version', version,
      'attempts', 0, 'batch', batch,
      'queued_at', now, 'priority', prio, 'source_fault', 1, 'deaths', 0, 'host', host)
    enqueue(id, now_us, now_us)
    queued_n = queued_n + 1
  end
end
redis.call('EXPIRE', bk, 2592000)
push_tokens(queued_n, token)
table.insert(lost, 1, queued_n)
return lost
"""
)

#: ARGV: P, owner, now, now_us, lease until, request id, host.
#: Returns {id, source, rel_dir, spec, attempts, fence} or nil.
CLAIM = (
    _PRELUDE
    + r"""
local owner, now, now_us = ARGV[2], ARGV[3], tonumber(ARGV[4])
local lease, req, host = ARGV[5], ARGV[6], ARGV[7]
local w = P .. 'worker:' .. owner
local function reply(id)
  return {id, unpack(redis.call('HMGET', jk(id), 'source', 'rel_dir', 'spec', 'attempts', 'fence'))}
end
-- The same request again (its reply was lost with the connection): the same job.
if req ~= '' and redis.call('HGET', w, 'req') == req then
  local id = redis.call('HGET', w, 'job')
  if id and redis.call('HGET', jk(id), 'owner') == owner
     and redis.call('HGET', jk(id), 'state') == 'running' then
    return reply(id)
  end
end
if paused() then return nil end
local due = redis.call('ZRANGEBYSCORE', P .. 'wait', '-inf', now_us / 1e6, 'LIMIT', 0, 100)
for _, m in ipairs(due) do
  local id = tonumber(string.sub(m, 19))
  redis.call('ZREM', P .. 'wait', m)
  redis.call('ZADD', P .. 'ready', -tonumber(redis.call('HGET', jk(id), 'priority') or '0'), m)
end
local top = redis.call('ZRANGE', P .. 'ready', 0, 0)[1]
if not top then return nil end
redis.call('ZREM', P .. 'ready', top)
local id = tonumber(string.sub(top, 19))
redis.call('HDEL', jk(id), 'qm')
move(id, 'queued', 'running')
local fence = redis.call('INCR', P .. 'fence')
local tries = redis.call('HINCRBY', jk(id), 'tries', 1)
redis.call('HINCRBY', jk(id), 'attempts', 1)
redis.call('HSET', jk(id), 'owner', owner, 'fence', fence, 'started_at', now)
local h = P .. 'hist:' .. id
redis.call('RPUSH', h, '[' .. tries .. ',' .. cjson.encode(owner) .. ',' .. cjson.encode(host)
  .. ',' .. now .. OPEN)
redis.call('LTRIM', h, -20, -1)
redis.call('ZADD', P .. 'leases', lease, id)
if redis.call('EXISTS', w) == 1 then
  redis.call('HSET', w, 'current', redis.call('HGET', jk(id), 'source'), 'job', id, 'req', req)
end
return reply(id)
"""
)

#: ARGV: P, id, owner, fence, now, then the outcome's own (see each).
#: Each returns 1 if it recorded the outcome, 0 if the caller no longer held the job.
FINISH = (
    _PRELUDE
    + r"""
local id, owner, fence, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if not holds(id, owner, fence) then return 0 end
end_try(id, owner, 'done', now, 'null')
redis.call('HDEL', jk(id), 'error')
redis.call('HSET', jk(id), 'finished_at', now, 'outputs', ARGV[6],
  'size', ARGV[7], 'mtime_ns', ARGV[8], 'version', ARGV[9], 'info', ARGV[10])
redis.call('ZADD', P .. 'finished_at', now, id)
redis.call('HINCRBY', P .. 'totals', 'done', 1)
return 1
"""
)

#: Extra ARGV: error, error as JSON, source_fault (1/0), the totals key to raise.
FAIL = (
    _PRELUDE
    + r"""
local id, owner, fence, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if not holds(id, owner, fence) then return 0 end
end_try(id, owner, 'failed', now, ARGV[7])
redis.call('HSET', jk(id), 'finished_at', now, 'error', ARGV[6], 'source_fault', ARGV[8])
redis.call('ZADD', P .. 'finished_at', now, id)
redis.call('ZADD', P .. 'failed_at', now, id)
redis.call('HINCRBY', P .. 'totals', ARGV[9], 1)
return 1
"""
)

#: Extra ARGV: the reason, as JSON. The source was gone (the store checked
#: the host that queued it).
VANISH = (
    _PRELUDE
    + r"""
local id, owner, fence, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if not holds(id, owner, fence) then return 0 end
end_try(id, owner, 'vanished', now, ARGV[7])
redis.call('HSET', jk(id), 'finished_at', now, 'error', ARGV[6])
redis.call('HINCRBY', P .. 'totals', 'vanished', 1)
-- Not in P:finished_at: that index is finished_since's (done or failed only, as on SQLite).
return 1
"""
)

#: Extra ARGV: outcome ('retry' or 'released'), error or '', error JSON,
#: due time in microseconds, now in microseconds, delayed token or '', its timestamp.
#: 'released' gives back the try (attempts - 1) and a token to run now.
REQUEUE_OWN = (
    _PRELUDE
    + r"""
local id, owner, fence, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local outcome, err, err_json = ARGV[6], ARGV[7], ARGV[8]
local due_us, now_us, token, ts = tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[11], ARGV[12]
if not holds(id, owner, fence) then return 0 end
move(id, 'running', 'queued')
redis.call('HDEL', jk(id), 'owner')
if err ~= '' then redis.call('HSET', jk(id), 'error', err) end
if outcome == 'released' then
  local a = tonumber(redis.call('HGET', jk(id), 'attempts') or '0')
  redis.call('HSET', jk(id), 'attempts', math.max(a - 1, 0))
end
redis.call('ZREM', P .. 'leases', id)
enqueue(id, due_us, now_us)
close_try(id, now, outcome, err_json)
free_worker(owner, false)
if ts ~= '' then
  redis.call('ZADD', TS, ts, token)
else
  push_tokens(1, token)
end
return 1
"""
)

#: ARGV: P, now, now_us, token, most deaths, their error, as JSON, then
#: (id, owner or '') pairs: requeue each job still running for that owner
#: ('' = whoever holds it, if its lease expired by now). A job whose dead
#: owners reach the most deaths fails instead (it is what kills them); an
#: expired lease (a cut network, a stuck process) is not counted as one.
#: Returns how many went back.
RECOVER = (
    _PRELUDE
    + r"""
local now, now_us, token = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local most, died, died_json = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local n = 0
for i = 8, #ARGV, 2 do
  local id, owner = ARGV[i], ARGV[i + 1]
  local s, o = unpack(redis.call('HMGET', jk(id), 'state', 'owner'))
  local lease = tonumber(redis.call('ZSCORE', P .. 'leases', id) or '0')
  local take = s == 'running' and ((owner ~= '' and o == owner)
    or (owner == '' and lease < now_us / 1e6))
  if take then
    redis.call('HDEL', jk(id), 'owner')
    redis.call('ZREM', P .. 'leases', id)
    local deaths = 0
    if owner ~= '' then deaths = redis.call('HINCRBY', jk(id), 'deaths', 1) end
    if deaths >= most then
      move(id, 'running', 'failed')
      redis.call('HSET', jk(id), 'finished_at', now, 'error', died, 'source_fault', 1)
      redis.call('ZADD', P .. 'finished_at', now, id)
      redis.call('ZADD', P .. 'failed_at', now, id)
      close_try(id, now, 'failed', died_json)
    else
      move(id, 'running', 'queued')
      enqueue(id, now_us, now_us)
      close_try(id, now, 'requeued', 'null')
      n = n + 1
    end
    if o then free_worker(o, false) end
  elseif s ~= 'running' then
    redis.call('ZREM', P .. 'leases', id)
  end
end
push_tokens(n, token)
return n
"""
)

#: ARGV: P, worker id, now, lease until. Refreshes the lease of the job it runs.
HEARTBEAT = (
    _PRELUDE
    + r"""
local w = P .. 'worker:' .. ARGV[2]
if redis.call('EXISTS', w) == 0 then return 0 end
redis.call('HSET', w, 'heartbeat', ARGV[3])
local id = redis.call('HGET', w, 'job')
if id and redis.call('HGET', jk(id), 'owner') == ARGV[2]
   and redis.call('HGET', jk(id), 'state') == 'running' then
  redis.call('ZADD', P .. 'leases', 'XX', ARGV[4], id)
end
return 1
"""
)

#: ARGV: P, token. Tokens up to one per queued job (none while paused).
TOP_UP = (
    _PRELUDE
    + r"""
if paused() then return 0 end
local missing = queued() - redis.call('LLEN', TQ) - redis.call('ZCARD', TS)
if missing <= 0 then return 0 end
push_tokens(missing, ARGV[2])
return missing
"""
)

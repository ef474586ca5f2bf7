-- A message into its thread's queue, and with lease_ms the thread's lease (handlers/store/thread_store.py).
-- KEYS: state, queue, answered, lease, held
-- ARGV: ts, payload, kind, token, lease_ms, ttl, now, customer, hold_ms, now_ms, reply_ts
-- customer '': the message never opens a thread (a feedback press): with no state it is not ours.
-- A thread reply in a thread with no state yet may have overtaken the thread's opening message
-- (Slack retrying the @mention): it is held, and moved into the queue by the opening message if
-- that comes within hold_ms and the reply is newer than it. Returns {status, promoted, dropped}.
local state = KEYS[1]
local queue = KEYS[2]
local answered = KEYS[3]
local lease = KEYS[4]
local held = KEYS[5]
local ts = ARGV[1]
local payload = ARGV[2]
local kind = ARGV[3]
local token = ARGV[4]
local lease_ms = ARGV[5]
local ttl = ARGV[6]
local now = ARGV[7]
local customer = ARGV[8]
local hold_ms = ARGV[9]
local now_ms = ARGV[10]
local reply_ts = ARGV[11]

if redis.call('SISMEMBER', answered, ts) == 1 then return {'done', 0, 0} end
local hold, at_ms = tonumber(hold_ms), tonumber(now_ms)
if kind == 'thread_reply' then
  if redis.call('EXISTS', state) == 0 then
    if hold <= 0 then return {'not_ours', 0, 0} end
    local earlier = redis.call('HGET', held, ts)
    if earlier then
      -- held before (a redelivery): past its time it is not ours after all
      if tonumber(string.match(earlier, '^(%d+) ')) + hold < at_ms then
        redis.call('HDEL', held, ts)
        return {'not_ours', 0, 1}
      end
      return {'held', 0, 0}
    end
    -- replies held too long are dropped here (and counted, so the drop is logged); the key lives
    -- twice the hold so that they are still there to count, then expires with whatever is left
    local dropped = 0
    local items = redis.call('HGETALL', held)
    for i = 1, #items, 2 do
      if tonumber(string.match(items[i + 1], '^(%d+) ')) + hold < at_ms then
        redis.call('HDEL', held, items[i])
        dropped = dropped + 1
      end
    end
    redis.call('HSET', held, ts, now_ms .. ' ' .. payload)
    if redis.call('PTTL', held) < 2 * hold then redis.call('PEXPIRE', held, 2 * hold) end
    return {'held', 0, dropped}
  end
else
  if customer == '' and redis.call('EXISTS', state) == 0 then return {'not_ours', 0, 0} end
  if redis.call('HSETNX', state, 'created_at', now) == 1 then
    redis.call('HSET', state, 'owner', 'bot', 'customer', customer, 'kind', kind)
  end
  -- a DM conversation is answered in the thread of the customer's latest message
  if reply_ts ~= '' then redis.call('HSET', state, 'reply_ts', reply_ts) end
end
local promoted, dropped = 0, 0
if kind ~= 'thread_reply' and redis.call('EXISTS', held) == 1 then
  local sec, frac = string.match(ts, '^(%d+)%.?(%d*)$')
  sec, frac = tonumber(sec) or 0, tonumber(frac) or 0
  local items = redis.call('HGETALL', held)
  for i = 1, #items, 2 do
    local rsec, rfrac = string.match(items[i], '^(%d+)%.?(%d*)$')
    rsec, rfrac = tonumber(rsec) or 0, tonumber(rfrac) or 0
    local held_at, held_payload = string.match(items[i + 1], '^(%d+) (.*)$')
    local newer = rsec > sec or (rsec == sec and rfrac > frac)
    if newer and tonumber(held_at) + hold >= at_ms then
      redis.call('HSET', queue, items[i], held_payload)
      promoted = promoted + 1
    else
      dropped = dropped + 1
    end
  end
  redis.call('DEL', held)
end
redis.call('EXPIRE', state, ttl)
redis.call('EXPIRE', queue, ttl)
-- lease_ms 0: queue only (the ingress, so that a message is in its thread's queue before Slack's
-- acknowledgement; the worker that reads its stream entry takes the lease). The ingress does not
-- know the stream entry id yet (the XADD goes in the same round trip): it never overwrites the
-- message as a worker queued it, with its entry id.
if lease_ms == '0' then
  redis.call('HSETNX', queue, ts, payload)
  return {'queued', promoted, dropped}
end
redis.call('HSET', queue, ts, payload)
if redis.call('SET', lease, token, 'NX', 'PX', lease_ms) then return {'leased', promoted, dropped} end
-- the lease is already this call's own: a retry of this script after its reply was lost
if redis.call('GET', lease) == token then return {'leased', promoted, dropped} end
return {'queued', promoted, dropped}

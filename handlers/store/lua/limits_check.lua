-- One message of a person, counted against their limits (handlers/store/limits.py).
-- KEYS: rate, threads, stored
-- ARGV: per_minute, member, opens, now, open_since, max_open, index_ttl, size, max_thread_bytes, max_stored_bytes
-- member: the thread key; opens: '1' | '0'; size: bytes, 0 when not counted.
local rate = KEYS[1]
local threads = KEYS[2]
local stored = KEYS[3]
local per_minute = ARGV[1]
local member = ARGV[2]
local opens = ARGV[3]
local now = ARGV[4]
local open_since = ARGV[5]
local max_open = ARGV[6]
local index_ttl = ARGV[7]
local size = ARGV[8]
local max_thread_bytes = ARGV[9]
local max_stored_bytes = ARGV[10]

local n = redis.call('HINCRBY', rate, 'n', 1)
if n == 1 then redis.call('EXPIRE', rate, 120) end
if n > tonumber(per_minute) then
  if redis.call('HSETNX', rate, 'told', 1) == 1 then return {'too_fast', 0} end
  return {'quiet', 0}
end
local bytes_in, at = tonumber(size), tonumber(now)
local in_thread, total = 0, 0
if bytes_in > 0 then
  in_thread = tonumber(string.match(redis.call('HGET', stored, member) or '0', '^(%d+)')) or 0
  total = tonumber(redis.call('HGET', stored, 'total') or '0') or 0
  local full = nil
  if in_thread + bytes_in > tonumber(max_thread_bytes) then full = 'thread_full' end
  if not full and total + bytes_in > tonumber(max_stored_bytes) then
    -- conversations whose retention ran out since the person last wrote in them are gone: uncount them
    total = 0
    local items = redis.call('HGETALL', stored)
    for i = 1, #items, 2 do
      if items[i] ~= 'total' then
        local bytes, last = string.match(items[i + 1], '^(%d+) (%S+)$')
        if not last or tonumber(last) + tonumber(index_ttl) < at then
          redis.call('HDEL', stored, items[i])
        else
          total = total + tonumber(bytes)
        end
      end
    end
    redis.call('HSET', stored, 'total', total)
    if total + bytes_in > tonumber(max_stored_bytes) then full = 'stored_full' end
  end
  if full then
    if redis.call('HSETNX', rate, 'told_full', 1) == 1 then return {full, 0} end
    return {'quiet', 0}
  end
end
if opens == '1' and not redis.call('ZSCORE', threads, member) then
  local open = redis.call('ZCOUNT', threads, open_since, '+inf')
  if open >= tonumber(max_open) then return {'too_many_threads', open} end
  redis.call('ZADD', threads, now, member)
else
  redis.call('ZADD', threads, 'XX', now, member)
end
redis.call('EXPIRE', threads, index_ttl)  -- nothing when the person has no index
if bytes_in > 0 then
  redis.call('HSET', stored, member, (in_thread + bytes_in) .. ' ' .. now, 'total', total + bytes_in)
  redis.call('EXPIRE', stored, index_ttl)
end
return {'ok', 0}

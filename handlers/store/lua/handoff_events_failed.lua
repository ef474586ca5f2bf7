-- A hand-off event the receiver did not take: tried again at `retry_at`, or after `max_attempts`
-- tries moved to the dead-letter stream (handlers/store/handoff_events.py).
-- KEYS: stream, due, attempts, dead
-- ARGV: id, max_attempts, retry_at, failure, dead_kept
-- Returns the tries so far; negative when the event was set aside.
local stream = KEYS[1]
local due = KEYS[2]
local attempts = KEYS[3]
local dead = KEYS[4]
local id = ARGV[1]
local max_attempts = ARGV[2]
local retry_at = ARGV[3]
local failure = ARGV[4]
local dead_kept = ARGV[5]

local n = redis.call('HINCRBY', attempts, id, 1)
if n < tonumber(max_attempts) then
  redis.call('ZADD', due, retry_at, id)
  return n
end
local entry = redis.call('XRANGE', stream, id, id)
if #entry > 0 then
  local fields = entry[1][2]
  redis.call('XADD', dead, 'MAXLEN', '~', dead_kept, '*', 'id', id, 'error', failure, 'attempts', n,
    unpack(fields))
end
redis.call('XDEL', stream, id)
redis.call('ZREM', due, id)
redis.call('HDEL', attempts, id)
return -n

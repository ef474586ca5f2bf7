-- A hand-off event delivered (or forgotten meanwhile): its entry, due time and tries are removed
-- (handlers/store/handoff_events.py).
-- KEYS: stream, due, attempts
-- ARGV: id
local stream = KEYS[1]
local due = KEYS[2]
local attempts = KEYS[3]
local id = ARGV[1]

redis.call('XDEL', stream, id)
redis.call('ZREM', due, id)
redis.call('HDEL', attempts, id)
return 1

-- The hand-off events due by `now`, claimed until `claimed_until`: another deliverer skips them
-- meanwhile, and they come back if this one crashes (handlers/store/handoff_events.py).
-- KEYS: due
-- ARGV: now, claimed_until, limit
local due = KEYS[1]
local now = ARGV[1]
local claimed_until = ARGV[2]
local limit = ARGV[3]

local ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(ids) do redis.call('ZADD', due, claimed_until, id) end
return ids

-- The due entries of a sorted set, each handed to exactly one caller: the card reminders
-- (handlers/store/ownership.py) and the service-level checks (handlers/store/target_checks.py).
-- KEYS: reminders
-- ARGV: now, limit
local reminders = KEYS[1]
local now = ARGV[1]
local limit = ARGV[2]

local due = redis.call('ZRANGEBYSCORE', reminders, '-inf', now, 'LIMIT', 0, limit)
for _, member in ipairs(due) do redis.call('ZREM', reminders, member) end
return due

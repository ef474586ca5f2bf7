-- The due reminders, each handed to exactly one caller (handlers/store/ownership.py).
-- KEYS: reminders
-- ARGV: now, limit
local reminders = KEYS[1]
local now = ARGV[1]
local limit = ARGV[2]

local due = redis.call('ZRANGEBYSCORE', reminders, '-inf', now, 'LIMIT', 0, limit)
for _, member in ipairs(due) do redis.call('ZREM', reminders, member) end
return due

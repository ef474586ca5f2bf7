-- Queues one hand-off event: its stream entry and its due time, together
-- (handlers/store/handoff_events.py). Returns the entry's id.
-- KEYS: stream, due
-- ARGV: body, customer, now
local stream = KEYS[1]
local due = KEYS[2]
local body = ARGV[1]
local customer = ARGV[2]
local now = ARGV[3]

local id = redis.call('XADD', stream, '*', 'body', body, 'customer', customer)
redis.call('ZADD', due, now, id)
return id

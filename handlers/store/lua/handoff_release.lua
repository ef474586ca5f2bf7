-- Gives up the person's hand-off slot, if this thread holds it (handlers/store/limits.py).
-- KEYS: slot
-- ARGV: thread
local slot = KEYS[1]
local thread = ARGV[1]

if redis.call('GET', slot) == thread then return redis.call('DEL', slot) end
return 0

-- Makes a thread the person's one open hand-off, unless another holds it (handlers/store/limits.py).
-- KEYS: slot
-- ARGV: thread, ttl, replaceable
-- replaceable: a holder known to be stale, or ''. Returns the holder, or false when reserved.
local slot = KEYS[1]
local thread = ARGV[1]
local ttl = ARGV[2]
local replaceable = ARGV[3]

local held = redis.call('GET', slot)
if held and held ~= thread and held ~= replaceable then return held end
redis.call('SET', slot, thread, 'EX', ttl)
return false

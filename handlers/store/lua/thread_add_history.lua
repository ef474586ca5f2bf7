-- The thread's earlier messages, read once before Sarah's first answer in it (history_read marks
-- it) (handlers/store/thread_store.py).
-- KEYS: state, turns
-- ARGV: ttl, max_turns, earlier...
-- earlier: the turns' JSON. Returns how many were stored, -1 when they were stored already.
--- @include rest
local state = KEYS[1]
local turns = KEYS[2]
local ttl = ARGV[1]
local max_turns = ARGV[2]
local earlier = rest(ARGV, 3)

if redis.call('HSETNX', state, 'history_read', 1) == 0 then return -1 end
for _, turn in ipairs(earlier) do redis.call('RPUSH', turns, turn) end
if #earlier > 0 then
  redis.call('LTRIM', turns, -tonumber(max_turns), -1)
  redis.call('EXPIRE', turns, ttl)
end
redis.call('EXPIRE', state, ttl)
return #earlier

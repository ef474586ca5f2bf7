-- Moves a thread to a new owner if its owner is one of those allowed (handlers/store/ownership.py).
-- KEYS: state, turns, failed
-- ARGV: allowed, to, by, now, reset_failures, ttl, max_turns, n_turns, turns_and_fields...
-- allowed: a comma list of owners; turns_and_fields: n_turns turn JSONs, then field, value, …
-- Returns {changed (1/0), the owner before}.
--- @include rest
local state = KEYS[1]
local turns = KEYS[2]
local failed = KEYS[3]
local allowed = ARGV[1]
local to = ARGV[2]
local by = ARGV[3]
local now = ARGV[4]
local reset_failures = ARGV[5]
local ttl = ARGV[6]
local max_turns = ARGV[7]
local n_turns = ARGV[8]
local turns_and_fields = rest(ARGV, 9)

local owner = redis.call('HGET', state, 'owner') or 'bot'
local may = false
for s in string.gmatch(allowed, '[^,]+') do if s == owner then may = true end end
if not may then return {0, owner} end
redis.call('HSET', state, 'owner', to, 'owner_by', by, 'owner_at', now)
if reset_failures == '1' then
  redis.call('HSET', state, 'failures', 0)
  redis.call('DEL', failed)
end
local n = tonumber(n_turns)
for i = 1, n do redis.call('RPUSH', turns, turns_and_fields[i]) end
if n > 0 then redis.call('LTRIM', turns, -tonumber(max_turns), -1) end
for i = n + 1, #turns_and_fields, 2 do redis.call('HSET', state, turns_and_fields[i], turns_and_fields[i + 1]) end
for _, key in ipairs({state, turns, failed}) do
  if redis.call('EXISTS', key) == 1 then redis.call('EXPIRE', key, ttl) end
end
return {1, owner}

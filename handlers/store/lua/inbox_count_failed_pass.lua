-- One more failed pass on each entry (handlers/store/inbox.py).
-- KEYS: failed_passes
-- ARGV: ttl, entry_ids...
-- Returns the highest count among the entries.
--- @include rest
local failed_passes = KEYS[1]
local ttl = ARGV[1]
local entry_ids = rest(ARGV, 2)

local most = 0
for _, entry_id in ipairs(entry_ids) do
  local n = redis.call('HINCRBY', failed_passes, entry_id, 1)
  if n > most then most = n end
end
redis.call('EXPIRE', failed_passes, ttl)
return most

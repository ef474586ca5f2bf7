-- Files the customer shared (name and permalink, never their content), for the hand-off card
-- (handlers/store/thread_store.py).
-- KEYS: state
-- ARGV: ttl, max_files, shared...
-- shared: each file's JSON; a file already recorded is not added again, and the newest max_files stay.
--- @include rest
local state = KEYS[1]
local ttl = ARGV[1]
local max_files = ARGV[2]
local shared = rest(ARGV, 3)

local files = cjson.decode(redis.call('HGET', state, 'files') or '[]')
local seen = {}
for _, f in ipairs(files) do seen[f.permalink .. '|' .. f.name] = true end
for _, raw in ipairs(shared) do
  local f = cjson.decode(raw)
  if not seen[f.permalink .. '|' .. f.name] then
    seen[f.permalink .. '|' .. f.name] = true
    table.insert(files, f)
  end
end
while #files > tonumber(max_files) do table.remove(files, 1) end
redis.call('HSET', state, 'files', cjson.encode(files))
redis.call('EXPIRE', state, ttl)
return #files

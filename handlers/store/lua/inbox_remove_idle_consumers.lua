-- Forgets the consumers (crashed workers) idle this long with nothing pending (handlers/store/inbox.py).
-- KEYS: stream
-- ARGV: group, min_idle_ms, keep
-- keep: the consumer to keep (the caller). A consumer is removed only if it has nothing pending,
-- checked in the same atomic step: XGROUP DELCONSUMER drops the consumer's pending entries, which
-- would strand them.
local stream = KEYS[1]
local group = ARGV[1]
local min_idle_ms = ARGV[2]
local keep = ARGV[3]

if redis.call('EXISTS', stream) == 0 then return {} end
local removed = {}
for _, info in ipairs(redis.call('XINFO', 'CONSUMERS', stream, group)) do
  local fields = {}
  for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
  if fields['name'] ~= keep and tonumber(fields['pending']) == 0
     and tonumber(fields['idle']) >= tonumber(min_idle_ms) then
    redis.call('XGROUP', 'DELCONSUMER', stream, group, fields['name'])
    removed[#removed + 1] = fields['name']
  end
end
return removed

-- Puts a dead letter's message back in the inbox as a new entry (handlers/store/dead_letters.py).
-- KEYS: dead, inbox
-- ARGV: dead_id, maxlen
-- Returns the new entry's id, or false when the dead letter is unknown.
--- @include inbox_full
local dead = KEYS[1]
local inbox = KEYS[2]
local dead_id = ARGV[1]
local maxlen = ARGV[2]

local rows = redis.call('XRANGE', dead, dead_id, dead_id)
if #rows == 0 then return false end
local fields, payload = rows[1][2], nil
for i = 1, #fields, 2 do if fields[i] == 'm' then payload = fields[i + 1] end end
if not payload then return false end
inbox_full(inbox, maxlen)  -- never trimmed: a full inbox refuses the replay (handlers/store/inbox.py)
local id = redis.call('XADD', inbox, '*', 'm', payload)
redis.call('XDEL', dead, dead_id)
return id

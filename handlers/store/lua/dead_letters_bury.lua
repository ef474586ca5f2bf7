-- Moves a thread's failing entries from the inbox to the dead-letter stream, in one step
-- (handlers/store/dead_letters.py).
-- KEYS: inbox, failed_passes, dead
-- ARGV: group, maxlen, at, error_type, detail, passes, thread, oldest_kept, keep_ms, entries...
-- entries: entry id, payload, entry id, payload … ; oldest_kept: the oldest dead id within the
-- retention (older ones are trimmed); keep_ms: the retention, the dead stream's expiry.
--- @include rest
local inbox = KEYS[1]
local failed_passes = KEYS[2]
local dead = KEYS[3]
local group = ARGV[1]
local maxlen = ARGV[2]
local at = ARGV[3]
local error_type = ARGV[4]
local detail = ARGV[5]
local passes = ARGV[6]
local thread = ARGV[7]
local oldest_kept = ARGV[8]
local keep_ms = ARGV[9]
local entries = rest(ARGV, 10)

for i = 1, #entries, 2 do
  local entry_id, payload = entries[i], entries[i + 1]
  redis.call('XADD', dead, 'MAXLEN', '~', maxlen, '*', 'entry', entry_id, 'm', payload,
             'thread', thread, 'error', error_type, 'detail', detail, 'passes', passes, 'at', at)
  redis.call('XACK', inbox, group, entry_id)
  redis.call('XDEL', inbox, entry_id)
  redis.call('HDEL', failed_passes, entry_id)
end
redis.call('XTRIM', dead, 'MINID', oldest_kept)
redis.call('PEXPIRE', dead, keep_ms)
return #entries / 2

-- A message into the inbox stream, unless it was seen before (handlers/store/inbox.py).
-- KEYS: seen, stream, latest
-- ARGV: ttl, maxlen, payload, thread_ts, channel
-- latest: the sender's last thread per channel. The mark is written after the XADD succeeds, so a
-- failed XADD leaves no mark and Slack's retry gets through.
--- @include inbox_full
local seen = KEYS[1]
local stream = KEYS[2]
local latest = KEYS[3]
local ttl = ARGV[1]
local maxlen = ARGV[2]
local payload = ARGV[3]
local thread_ts = ARGV[4]
local channel = ARGV[5]

if redis.call('EXISTS', seen) == 1 then return false end
inbox_full(stream, maxlen)
local id = redis.call('XADD', stream, '*', 'm', payload)
redis.call('SET', seen, id, 'EX', ttl)
redis.call('HSET', latest, channel, thread_ts)
redis.call('EXPIRE', latest, ttl)
return id

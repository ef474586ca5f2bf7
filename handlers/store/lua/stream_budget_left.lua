-- How many streams a workspace started in the window (handlers/store/stream_budget.py).
-- KEYS: starts
-- ARGV: since_ms
-- since_ms: the window's start (exclusive). Returns {starts in the window, the oldest one's ms or 0}.
local starts = KEYS[1]
local since_ms = ARGV[1]

local oldest = redis.call('ZRANGEBYSCORE', starts, '(' .. since_ms, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
return {redis.call('ZCOUNT', starts, '(' .. since_ms, '+inf'), oldest[2] or '0'}

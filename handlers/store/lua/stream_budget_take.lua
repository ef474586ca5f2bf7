-- Spends one streamed answer of a workspace's minute (handlers/store/stream_budget.py).
-- KEYS: starts
-- ARGV: now_ms, window_ms, limit, member
-- starts: the workspace's sorted set of stream starts (score: ms).
-- Returns {1, '0'} when taken, {0, the oldest start's ms} when the budget is spent.
local starts = KEYS[1]
local now_ms = ARGV[1]
local window_ms = ARGV[2]
local limit = ARGV[3]
local member = ARGV[4]

redis.call('ZREMRANGEBYSCORE', starts, '-inf', tonumber(now_ms) - tonumber(window_ms))
if redis.call('ZCARD', starts) >= tonumber(limit) then
  return {0, redis.call('ZRANGE', starts, 0, 0, 'WITHSCORES')[2] or '0'}
end
redis.call('ZADD', starts, now_ms, member)
redis.call('PEXPIRE', starts, window_ms)
return {1, '0'}

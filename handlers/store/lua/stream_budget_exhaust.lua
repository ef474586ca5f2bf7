-- Spends the rest of a workspace's window at once: Slack answered 429 (handlers/store/stream_budget.py).
-- KEYS: starts
-- ARGV: until_ms, window_ms, limit, member_prefix, pause_ms
-- until_ms: the ms until which the budget is spent; pause_ms: from now until then.
local starts = KEYS[1]
local until_ms = ARGV[1]
local window_ms = ARGV[2]
local limit = ARGV[3]
local member_prefix = ARGV[4]
local pause_ms = ARGV[5]

redis.call('DEL', starts)
for i = 1, tonumber(limit) do
  redis.call('ZADD', starts, tonumber(until_ms) - tonumber(window_ms), member_prefix .. i)
end
redis.call('PEXPIRE', starts, tonumber(pause_ms))
return 1

-- Counts a failure once per key (handlers/store/ownership.py).
-- KEYS: state, failed
-- ARGV: key, ttl
-- Returns {counted, failures, first time the customer said an answer did not help in this thread}.
local state = KEYS[1]
local failed = KEYS[2]
local key = ARGV[1]
local ttl = ARGV[2]

if redis.call('SADD', failed, key) == 0 then
  return {0, tonumber(redis.call('HGET', state, 'failures') or '0'), 0}
end
local n = redis.call('HINCRBY', state, 'failures', 1)
local unsolved = 0
if string.sub(key, 1, 7) == 'answer:' then unsolved = redis.call('HSETNX', state, 'not_solved', '1') end
redis.call('EXPIRE', state, ttl)
redis.call('EXPIRE', failed, ttl)
return {1, n, unsolved}

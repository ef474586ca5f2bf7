-- Extends the thread's lease, if it is still this worker's (handlers/store/thread_store.py).
-- KEYS: lease
-- ARGV: token, lease_ms
local lease = KEYS[1]
local token = ARGV[1]
local lease_ms = ARGV[2]

if redis.call('GET', lease) == token then
  return redis.call('PEXPIRE', lease, lease_ms)
end
return 0

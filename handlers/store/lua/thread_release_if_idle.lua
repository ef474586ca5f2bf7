-- Gives the thread's lease up unless messages wait (handlers/store/thread_store.py).
-- KEYS: queue, lease
-- ARGV: token
-- Returns 'released', 'more' (messages wait: keep answering) or 'lost' (the lease is not ours).
local queue = KEYS[1]
local lease = KEYS[2]
local token = ARGV[1]

if redis.call('GET', lease) ~= token then return 'lost' end
if redis.call('HLEN', queue) > 0 then return 'more' end
redis.call('DEL', lease)
return 'released'

-- The customer's score for a resolved hand-off, kept once (handlers/store/ratings.py).
-- KEYS: state
-- ARGV: user, score, now
-- Returns 'ok', or why not: 'not_customer', 'not_asked', 'already'.
local state = KEYS[1]
local user = ARGV[1]
local score = ARGV[2]
local now = ARGV[3]

if redis.call('HGET', state, 'customer') ~= user then return 'not_customer' end
if redis.call('HGET', state, 'rating_asked') ~= '1' then return 'not_asked' end
if redis.call('HSETNX', state, 'rating', score) == 0 then return 'already' end
redis.call('HSET', state, 'rated_at', now)
return 'ok'

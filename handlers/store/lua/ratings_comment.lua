-- The customer's one comment on their rating, kept once (handlers/store/ratings.py).
-- KEYS: state
-- ARGV: user, comment
-- Returns 'ok', or why not: 'not_customer', 'not_rated', 'already'.
local state = KEYS[1]
local user = ARGV[1]
local comment = ARGV[2]

if redis.call('HGET', state, 'customer') ~= user then return 'not_customer' end
if not redis.call('HGET', state, 'rating') then return 'not_rated' end
if redis.call('HSETNX', state, 'rating_comment', comment) == 0 then return 'already' end
return 'ok'

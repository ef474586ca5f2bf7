-- A pass's one read: the state as it was, the queue and the stored turns (handlers/store/thread_store.py).
-- KEYS: state, queue, turns, lease
-- ARGV: tag, now, ttl, token
-- token: the pass's lease ('': no lease to check). When messages wait, no answer is being posted
-- yet and the lease is the pass's own, the pass's reply tag is recorded here, before anything is
-- posted with it (handlers/outbox.py: one visible answer across a crash), with the thread the
-- answer goes to (reply_at: a DM conversation's latest message moves on).
-- Returns {state, queue, turns, tagged}.
local state = KEYS[1]
local queue = KEYS[2]
local turns = KEYS[3]
local lease = KEYS[4]
local tag = ARGV[1]
local now = ARGV[2]
local ttl = ARGV[3]
local token = ARGV[4]

local fields = redis.call('HGETALL', state)
local waiting = redis.call('HGETALL', queue)
local stored = redis.call('LRANGE', turns, 0, -1)
local tagged = 0
local ours = token == '' or redis.call('GET', lease) == token
if ours and #waiting > 0 and redis.call('HEXISTS', state, 'reply_pass') == 0 then
  local at = redis.call('HGET', state, 'reply_ts') or ''
  redis.call('HSET', state, 'reply_pass', tag, 'reply_since', now, 'reply_at', at)
  redis.call('EXPIRE', state, ttl)
  tagged = 1
end
return {fields, waiting, stored, tagged}

-- Records a pass's answer: the new turns, the answered markers, the queue emptied of them
-- (handlers/store/thread_store.py).
-- KEYS: state, turns, queue, answered, lease
-- ARGV: ttl, max_turns, now, token, release, next_tag, n_answered, answered_and_turns...
-- token: the pass's lease ('': not checked); release: '1' to give the lease up; answered_and_turns:
-- the ts of the n_answered messages answered, then the turns' JSON.
-- With a token, the lease is checked first: a commit under a lease that is not ours any more (it
-- expired while this worker was cut off, and another may have answered) writes nothing: {'lost'}.
-- With release, the lease is given up in the same step when nothing else waits (the answer was the
-- pass's last act): returns 'released' or 'more' (messages arrived: keep answering). With 'more'
-- comes the next pass's read (`begin`, recording the next tag), saving it a round trip.
-- Every reply is {status, entry ids[, next read]}: the stream entries of the answered messages as the
-- queue holds them now (a worker may have read the entry of a message the pass took from the
-- ingress's copy, which has none): the pass acknowledges them too, so none waits for XAUTOCLAIM.
--- @include rest
--- @function thread_begin as begin
local state = KEYS[1]
local turns = KEYS[2]
local queue = KEYS[3]
local answered = KEYS[4]
local lease = KEYS[5]
local ttl = ARGV[1]
local max_turns = ARGV[2]
local now = ARGV[3]
local token = ARGV[4]
local release = ARGV[5]
local next_tag = ARGV[6]
local n_answered = ARGV[7]
local answered_and_turns = rest(ARGV, 8)

if token ~= '' and redis.call('GET', lease) ~= token then return {'lost', {}} end
local n = tonumber(n_answered)
local entries = {}
for i = 1, n do
  local ts = answered_and_turns[i]
  local queued = redis.call('HGET', queue, ts)
  local entry = queued and string.match(string.sub(queued, -64), '"e":"([^"]+)"}$')
  if entry then entries[#entries + 1] = entry end
  redis.call('HDEL', queue, ts)
  redis.call('SADD', answered, ts)
end
for i = n + 1, #answered_and_turns do
  redis.call('RPUSH', turns, answered_and_turns[i])
end
redis.call('LTRIM', turns, -tonumber(max_turns), -1)
redis.call('HDEL', state, 'placeholder', 'reply_pass', 'reply_since', 'reply_parts', 'reply_at')
redis.call('HSET', state, 'updated_at', now)
for _, key in ipairs({state, turns, queue, answered}) do
  redis.call('EXPIRE', key, ttl)  -- a key that does not exist stays so
end
if release ~= '1' then return {'', entries} end
if redis.call('HLEN', queue) > 0 then
  return {'more', entries, begin({state, queue, turns, lease}, {next_tag, now, ttl, token})}
end
redis.call('DEL', lease)
return {'released', entries}

-- What is checked right before a send (handlers/store/thread_store.py): the owner, whether the lease
-- is still the pass's own, how many messages wait in the queue, and those of them that arrived since
-- (ts, value, ...).
-- KEYS: state, queue, lease
-- ARGV: token, answering...
-- token: the pass's lease ('': not checked); answering: the ts of the messages being answered. They
-- are not sent back: they are read already, and parsing them again was most of the check's cost in
-- the client.
--- @include rest
local state = KEYS[1]
local queue = KEYS[2]
local lease = KEYS[3]
local token = ARGV[1]
local answering = rest(ARGV, 2)

local is_answering = {}
for _, ts in ipairs(answering) do is_answering[ts] = true end
local ours = (token == '' or redis.call('GET', lease) == token) and 1 or 0
local waiting = redis.call('HKEYS', queue)
local reply = {redis.call('HGET', state, 'owner') or '', ours, #waiting}
for _, ts in ipairs(waiting) do
    if not is_answering[ts] then
        reply[#reply + 1] = ts
        reply[#reply + 1] = redis.call('HGET', queue, ts)
    end
end
return reply

-- Deletes one conversation of a person, only if they are its customer (handlers/store/forget.py).
-- KEYS: state, other_keys...
-- ARGV: customer
-- other_keys: the thread's other keys. Returns {deleted keys (-1: not theirs), card channel, card ts}.
--- @include rest
local state = KEYS[1]
local other_keys = rest(KEYS, 2)
local customer = ARGV[1]

if redis.call('HGET', state, 'customer') ~= customer then return {-1, '', ''} end
local card = redis.call('HMGET', state, 'card_channel', 'card_ts')
return {redis.call('DEL', state, unpack(other_keys)), card[1] or '', card[2] or ''}

-- Deletes the relay state of a forgotten conversation's hand-off card (handlers/store/forget.py).
-- KEYS: state, other_keys...
-- ARGV: customer_thread
-- state and other_keys: the card thread's keys; only deleted while it relays to customer_thread.
--- @include rest
local state = KEYS[1]
local other_keys = rest(KEYS, 2)
local customer_thread = ARGV[1]

if redis.call('HGET', state, 'relay_to') ~= customer_thread then return 0 end
return redis.call('DEL', state, unpack(other_keys))

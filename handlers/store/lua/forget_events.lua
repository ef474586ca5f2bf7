-- Removes the hand-off events about a person (handlers/store/forget.py).
-- KEYS: webhooks, due, attempts, webhooks_dead
-- ARGV: customer
-- Hand-off events about the person not delivered yet (or set aside): they name the person.
local webhooks = KEYS[1]
local due = KEYS[2]
local attempts = KEYS[3]
local webhooks_dead = KEYS[4]
local customer = ARGV[1]

local n = 0
for _, key in ipairs({webhooks, webhooks_dead}) do
  for _, entry in ipairs(redis.call('XRANGE', key, '-', '+')) do
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'customer' and fields[i + 1] == customer then
        redis.call('XDEL', key, entry[1])
        redis.call('ZREM', due, entry[1])
        redis.call('HDEL', attempts, entry[1])
        n = n + 1
      end
    end
  end
end
return n

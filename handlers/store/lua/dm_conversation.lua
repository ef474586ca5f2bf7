-- The DM conversation a person's top-level message belongs to (handlers/store/thread_store.py).
-- KEYS: conversations
-- ARGV: channel, ts, now, idle_seconds, ttl, mode, idle_anchor
-- conversations: the person's dm hash; mode: 'check' | 'keep' | 'replace'; idle_anchor: the
-- conversation judged idle, for 'keep'.
-- Returns {status, conversation ts}: 'joined' (continues), 'new' (this message opens one), or
-- 'idle' (mode 'check' only: the caller decides between 'keep' and 'replace' for that anchor).
local conversations = KEYS[1]
local channel = ARGV[1]
local ts = ARGV[2]
local now = ARGV[3]
local idle_seconds = ARGV[4]
local ttl = ARGV[5]
local mode = ARGV[6]
local idle_anchor = ARGV[7]

local field, alias = 'c:' .. channel, 't:' .. channel .. ':' .. ts
local known = redis.call('HGET', conversations, alias)
if known then return {'joined', known} end  -- mapped before: the gate, then the listener; Slack's retries
local at = tonumber(now)
local raw = redis.call('HGET', conversations, field)
if raw then
  local anchor, last = string.match(raw, '^(%S+) (%S+)$')
  last = tonumber(last) or 0
  local idle = at - last > tonumber(idle_seconds)
  if anchor and (not idle or (mode == 'keep' and anchor == idle_anchor)) then
    if at > last then last = at end
    redis.call('HSET', conversations, field, anchor .. ' ' .. last, alias, anchor)
    redis.call('EXPIRE', conversations, ttl)
    return {'joined', anchor}
  end
  if anchor and mode == 'check' then return {'idle', anchor} end
end
redis.call('HSET', conversations, field, ts .. ' ' .. now, alias, ts)
redis.call('EXPIRE', conversations, ttl)
return {'new', ts}

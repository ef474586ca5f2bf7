-- One event of a thread's open hand-off, recorded once (handlers/store/ownership.py).
-- KEYS: state
-- ARGV: event, by, now, resolved
-- event: opened | claimed | answered | closed; resolved: 1/0.
-- Returns {escalated_at, first_response_at, reason[, first hand-off of the thread]} when the event was
-- recorded, {} when it was not. A thread handed off (or whose customer said an answer did not help,
-- see ownership_record_failure.lua) is marked not_solved once: it does not count as solved by Sarah.
local state = KEYS[1]
local event = ARGV[1]
local by = ARGV[2]
local now = ARGV[3]
local resolved = ARGV[4]

local open = redis.call('HGET', state, 'sla_open')
if event == 'opened' then
  local unsolved = redis.call('HSETNX', state, 'not_solved', '1')
  redis.call('HDEL', state, 'claimed_by', 'claimed_at', 'first_response_at', 'first_response_by', 'resolved_at',
    'warned_first_response', 'warned_resolution', 'breached_first_response', 'breached_resolution')
  redis.call('HSET', state, 'sla_open', '1')
  local reason = redis.call('HGET', state, 'handoff_reason') or ''
  return {redis.call('HGET', state, 'escalated_at') or '0', '0', reason, unsolved}
end
if open ~= '1' then return {} end
local at = redis.call('HGET', state, 'escalated_at') or '0'
if event == 'claimed' then
  if redis.call('HSETNX', state, 'claimed_by', by) == 0 then return {} end
  redis.call('HSET', state, 'claimed_at', now)
elseif event == 'answered' then
  if redis.call('HSETNX', state, 'first_response_at', now) == 0 then return {} end
  redis.call('HSET', state, 'first_response_by', by)
else
  redis.call('HDEL', state, 'sla_open')
  if resolved == '1' then redis.call('HSET', state, 'resolved_at', now) end
end
local reason = redis.call('HGET', state, 'handoff_reason') or ''
return {at, redis.call('HGET', state, 'first_response_at') or '0', reason}

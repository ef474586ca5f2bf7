-- What the ingress does in Redis for one message, as one script on one Redis server
-- (handlers/store/front_door.py): the DM conversation's step, the sender's limits, the inbox's put
-- and the message into its thread's queue, each the same script that runs alone elsewhere.
-- KEYS: none
-- ARGV: step, guess, counting
-- step: the DM step ('' | 'top' | 'thread'); guess: the conversation guessed ('' for the thread's
-- own); counting: see Counting. The pieces' own KEYS and ARGV follow, in the order named below.
--- @include inbox_full
--- @piece dm_conversation as dm
--- @piece limits_check as limits
--- @piece inbox_put as put
--- @piece thread_accept as queue
local step = ARGV[1]
local guess = ARGV[2]
local counting = ARGV[3]

if step == 'top' then
  local found = run_piece(dm)
  if found[1] == 'idle' or found[2] ~= guess then return {'moved', found[1], found[2]} end
elseif step == 'thread' then
  local known = redis.call('HGET', dm.key.conversations, 't:' .. dm.arg.channel .. ':' .. dm.arg.ts) or ''
  if known == dm.arg.ts then known = '' end  -- the thread of the message that opened it: its own
  if known ~= guess then return {'moved', 'joined', known} end
end
-- put's stream and cap: at the cap nothing is counted or queued, and Slack's retry comes back
inbox_full(put.key.stream, put.arg.maxlen)
if counting ~= 'skip' then
  local ours = counting ~= 'count' and redis.call('EXISTS', queue.key.state) == 1  -- only where it matters
  if counting == 'opens_unless_ours' then limits.arg.opens = ours and '0' or '1' end
  if counting ~= 'if_ours' or ours then
    local verdict = run_piece(limits)
    if verdict[1] ~= 'ok' then return verdict end
  end
end
local id = run_piece(put)
return {'ok', 0, id, run_piece(queue)}

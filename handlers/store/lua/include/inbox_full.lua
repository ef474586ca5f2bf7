-- Refuses a new message when the stream holds `maxlen` entries (in the ingress's one script, before
-- anything is counted; alone in `put`; and for a dead letter's replay).
local function inbox_full(stream, maxlen)
  if redis.call('XLEN', stream) >= tonumber(maxlen) then
    -- a string, not an error table: Redis 6.2 (the embedded server's) cannot report a table raised
    -- by error() and answers with its own handler's failure instead; every version keeps this text
    error('INBOXFULL the inbox stream holds STREAM_MAX_LENGTH (' .. maxlen .. ') unanswered messages')
  end
end

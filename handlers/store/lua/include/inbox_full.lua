-- Refuses a new message when the stream holds `maxlen` entries (in the ingress's one script, before
-- anything is counted; alone in `put`; and for a dead letter's replay).
local function inbox_full(stream, maxlen)
  if redis.call('XLEN', stream) >= tonumber(maxlen) then
    error({err = 'INBOXFULL the inbox stream holds STREAM_MAX_LENGTH (' .. maxlen .. ') unanswered messages'})
  end
end

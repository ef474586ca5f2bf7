-- The rest of a script's KEYS or ARGV from `first` on, as a list of its own (a loop, not unpack:
-- unpack fails past a few thousand values).
local function rest(list, first)
  local out = {}
  for i = first, #list do out[#out + 1] = list[i] end
  return out
end

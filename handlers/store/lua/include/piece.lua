-- A piece of a composed script (see handlers/store/scripts.py): its own part of the whole script's
-- KEYS and ARGV, cut out by the positions the loader computed from the declared counts, and kept by
-- name (`p.key.<name>`, `p.arg.<name>`) so that the script around it reads and changes them by name.
local function piece(script, keys, first_key, key_names, args, first_arg, arg_names)
  local p = {script = script, key_names = key_names, arg_names = arg_names, key = {}, arg = {}}
  for i, name in ipairs(key_names) do p.key[name] = keys[first_key + i - 1] end
  for i, name in ipairs(arg_names) do p.arg[name] = args[first_arg + i - 1] end
  return p
end
-- Runs a piece with its keys and arguments as they are now, in the order its header declares.
local function run_piece(p)
  local keys, args = {}, {}
  for i, name in ipairs(p.key_names) do keys[i] = p.key[name] end
  for i, name in ipairs(p.arg_names) do args[i] = p.arg[name] end
  return p.script(keys, args)
end

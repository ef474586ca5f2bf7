"""Everything Sarah keeps in Redis: the key schema, the Lua scripts and the stores that run them."""

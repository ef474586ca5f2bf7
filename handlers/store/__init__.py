"""Everything Sarah keeps in Redis: the key schema, the Lua scripts and the stores that run them.

keys.py           every key Sarah writes, and what `sarah forget` does with each family (FORGET)
lua/              the Lua scripts, one file each, with a header naming its KEYS and ARGV;
                  lua/include/ holds the pieces several scripts share
scripts.py        reads those files once, checks every call against its script's header, builds
                  scripts run as one (the front door's), and runs several in one round trip
values.py         what the stores take and return (a pass's snapshot, a queued message, a stored
                  turn …), importable without a store or a Redis client; a thread's `state` hash
                  as one typed object is handlers/thread_state.py, which the observers read too
thread_store.py   one thread's memory: its turns, its queue, its lease; a person's DM conversation
ownership.py      who answers a thread (bot → waiting → human), failures, reminders, hand-off times
front_door.py     the ingress's work for one message, in one round trip on one Redis server
inbox.py          the stream from the ingress to the workers, and its consumer group
limits.py         per-person limits and replay guards
dead_letters.py   messages Sarah could not answer, set aside for an operator
open_handoffs.py  the support team's queue, for App Home, the gauges and the digest
app_home_state.py who has App Home open, and the workspace's URL for links to cards
target_checks.py  when to look again at each hand-off's service-level targets, and what was posted
ratings.py        the customer's rating of a resolved hand-off and their comment
handoff_events.py the outbox of hand-off events for the webhook: due times, tries, dead letters
once.py           what one process does for all: the first to claim a marker (the digest, an alarm)
stream_budget.py  how many answers a workspace may stream this minute
service_stats.py  the support team's numbers over time
forget.py         deletes what Sarah keeps about one person
"""

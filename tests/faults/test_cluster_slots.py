"""Every Lua script and transaction Sarah sends touches keys of one hash slot, as Redis Cluster requires.

The Cluster row of the fault table proves it on a real cluster for the paths it drives; this test
covers the key sets the stores pass to their scripts, for any thread (the reminders' sorted set is
one key, touched alone).
"""

from __future__ import annotations

from redis.crc import key_slot

from handlers.messages import ThreadRef
from handlers.store.inbox import LATEST_PREFIX, SEEN_PREFIX, STREAM
from handlers.store.keys import thread_keys


def slots(*keys: str) -> set[int]:
    return {key_slot(key.encode()) for key in keys}


def test_every_key_of_one_thread_shares_a_slot() -> None:
    for thread in (ThreadRef("D0CUSTOMER", "1700000000.000100"), ThreadRef("C0GENERAL", "1700000001.000200")):
        assert len(slots(*thread_keys(thread).all())) == 1


def test_the_inbox_script_keys_share_the_stream_slot() -> None:
    # handlers/store/lua/inbox_put.lua: seen, stream, latest in one script
    assert len(slots(STREAM, f"{SEEN_PREFIX}D0CUSTOMER:1.2", f"{LATEST_PREFIX}UCUSTOMER")) == 1
    assert len(slots(STREAM, "sarah:{inbox}:dead")) == 1  # the dead letters move entries out of the stream

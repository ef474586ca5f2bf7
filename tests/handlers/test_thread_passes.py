"""A pass over a thread in few round trips, with every promise kept: the one read that starts a pass,
the commit that gives the lease up, the ingress's copy of a message that never hides a worker's,
and scripts sent together that survive Redis forgetting them."""

from __future__ import annotations

from redis.asyncio import Redis

from handlers.answered import Answered
from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.store.keys import thread_keys
from handlers.store.scripts import run_together
from handlers.store.thread_store import ThreadStore
from handlers.store.values import Accepted, Release, StoredTurn

THREAD = ThreadRef("C0HELP", "1800000000.000100", "TZEN")


def store(redis: Redis) -> ThreadStore:
    return ThreadStore(redis, ttl_seconds=3_600, max_turns=50, lease_seconds=15)


def message(ts: str, text: str = "my hub is offline") -> InboundMessage:
    return InboundMessage(THREAD, ts, "UCUSTOMER", text, Kind.MENTION)


async def test_a_pass_reads_everything_at_once_and_records_its_reply_tag_before_posting(redis: Redis) -> None:
    threads = store(redis)
    await threads.accept(message(THREAD.thread_ts), "1-0", "token", 1_800_000_000.0)
    await threads.commit(THREAD, [], [StoredTurn("user", "earlier"), StoredTurn("assistant", "answer")], 1.0)

    first = await threads.begin(THREAD, tag="pass-1", now=1_800_000_001.25)
    assert [p.message.text for p in first.pending] == ["my hub is offline"]
    assert [p.entry_id for p in first.pending] == ["1-0"]
    assert [t.content for t in first.turns] == ["earlier", "answer"]
    assert first.state.reply_pass == ""  # the state as it was before this pass
    assert first.tag == "pass-1" and first.tagged_at == 1_800_000_001.25
    assert (await threads.state(THREAD)).reply_pass == "pass-1"  # recorded before anything is posted

    again = await threads.begin(THREAD, tag="pass-2", now=1_800_000_009.0)  # a retried pass
    assert again.tag == "" and again.state.reply_pass == "pass-1"  # it edits what pass 1 posted


async def test_a_pass_over_an_empty_queue_records_nothing(redis: Redis) -> None:
    snapshot = await store(redis).begin(THREAD, tag="pass-1", now=1.0)
    assert snapshot.pending == [] and snapshot.tag == ""
    assert await redis.exists(thread_keys(THREAD).state) == 0


async def test_the_commit_gives_the_lease_up_only_when_nothing_waits_and_it_is_still_ours(redis: Redis) -> None:
    threads = store(redis)
    await threads.accept(message("1800000000.000100"), "1-0", "mine", 1.0)
    await threads.accept(message("1800000000.000200", "and the app too"), "2-0", "other", 2.0)  # queued
    batch = (await threads.begin(THREAD, tag="t", now=3.0)).pending

    more = await threads.commit(THREAD, batch[:1], [StoredTurn("assistant", "Try a restart.")], 4.0, release="mine")
    assert more.release is Release.MORE
    assert await redis.get(thread_keys(THREAD).lease) == b"mine"  # still answering
    # the next pass's read came with it: the message still waiting, the turn just stored, a fresh tag
    assert more.next is not None
    assert [p.message.ts for p in more.next.pending] == ["1800000000.000200"]
    assert [t.content for t in more.next.turns] == ["Try a restart."]
    assert more.next.tag and (await threads.state(THREAD)).reply_pass == more.next.tag
    done = await threads.commit(THREAD, more.next.pending, [], 5.0, release="mine")
    assert (done.release, done.next) == (Release.RELEASED, None)
    assert await redis.exists(thread_keys(THREAD).lease) == 0

    await threads.accept(message("1800000000.000300", "hello?"), "3-0", "someone-else", 6.0)
    late = (await threads.begin(THREAD, tag="t2", now=7.0)).pending
    lost = await threads.commit(THREAD, late, [], 8.0, release="mine")
    assert (lost.release, lost.next) == (Release.LOST, None)  # nothing read for a pass that is not ours
    assert await redis.get(thread_keys(THREAD).lease) == b"someone-else"  # never released for its holder
    assert (await threads.commit(THREAD, [], [], 9.0)).release is None  # without a token the lease is not touched


async def test_the_ingress_copy_never_hides_the_entry_id_a_worker_queued(redis: Redis) -> None:
    """The ingress queues before it knows the stream entry id; the worker's copy has it. Whichever
    lands first, the thread's queue ends with the id, so the answer acknowledges the entry."""
    threads = store(redis)
    early = message("1800000000.000100")
    assert await threads.accept(early, "", "", 1.0, take_lease=False) is Accepted.QUEUED
    assert await threads.accept(early, "1-0", "token", 2.0) is Accepted.LEASED
    late = message("1800000000.000200", "still offline")
    assert await threads.accept(late, "2-0", "token-2", 3.0) is Accepted.QUEUED
    assert await threads.accept(late, "", "", 4.0, take_lease=False) is Accepted.QUEUED
    assert [p.entry_id for p in await threads.pending(THREAD)] == ["1-0", "2-0"]


async def test_the_ingress_copy_of_an_answered_message_is_not_queued_again(redis: Redis) -> None:
    """Slack retries a message the worker already answered: it must not come back into the queue."""
    threads = store(redis)
    answered = message("1800000000.000100")
    await threads.accept(answered, "1-0", "token", 1.0)
    await threads.commit(THREAD, await threads.pending(THREAD), [], 2.0, release="token")
    assert await threads.accept(answered, "", "", 3.0, take_lease=False) is Accepted.DONE
    assert await threads.pending(THREAD) == []


async def test_scripts_sent_together_survive_redis_forgetting_them(redis: Redis) -> None:
    """After a restart or SCRIPT FLUSH, Redis answers NOSCRIPT: the calls are made again, loaded."""
    threads = store(redis)
    first, second = message("1800000000.000100"), message("1800000000.000200", "the app too")
    calls = [threads.accept_call(m, "", "", 1.0, take_lease=False) for m in (first, second)]
    await redis.script_flush()
    replies = await run_together(redis, calls)
    assert [threads.accepted(m, r) for m, r in zip((first, second), replies, strict=True)] == [Accepted.QUEUED] * 2
    assert [p.message.ts for p in await threads.pending(THREAD)] == [first.ts, second.ts]


async def test_the_send_check_sees_the_owner_and_what_arrived_while_sarah_drafted(redis: Redis) -> None:
    threads = store(redis)
    await threads.accept(message("1800000000.000100"), "1-0", "token", 1.0)
    await threads.accept(message("1800000000.000200", "a person please"), "2-0", "token-2", 2.0)
    await redis.hset(thread_keys(THREAD).state, "owner", "waiting")

    check = await threads.send_check(THREAD, ["1800000000.000100"])  # the message being answered

    assert check.owner == "waiting"
    assert check.waiting == 2
    assert [p.message.text for p in check.arrived] == ["a person please"]


async def test_the_send_check_reads_only_the_new_messages_however_many_wait(redis: Redis) -> None:
    """A customer who sent 60 long messages while Sarah drafted: the check counts them all, brings
    back the new ones in order, and never the batch it answers (read already)."""
    threads = store(redis)
    answering = [f"1800000000.{i:06d}" for i in range(100, 130)]
    for i, ts in enumerate(answering):
        await threads.accept(message(ts, "x" * 40_000), f"{i + 1}-0", "token", 1.0)
    later = [f"1800000001.{i:06d}" for i in range(100, 130)]
    for i, ts in enumerate(reversed(later)):
        await threads.accept(message(ts, f"later {ts}"), f"{i + 100}-0", "token", 2.0)

    check = await threads.send_check(THREAD, [*answering, "1800000000.999999"])  # one answered meanwhile

    assert check.owner == "bot" and check.waiting == 60
    assert [p.message.ts for p in check.arrived] == later
    assert [p.entry_id for p in check.arrived][:2] == ["129-0", "128-0"]
    assert (await threads.send_check(THREAD, [])).waiting == 60
    assert [p.message.ts for p in (await threads.send_check(THREAD, [])).arrived] == answering + later


async def test_the_worker_reads_a_thread_in_the_round_trip_that_takes_its_lease(redis: Redis) -> None:
    threads = store(redis)
    accepted, snapshot = await threads.accept_and_begin(message(THREAD.thread_ts), "1-0", "mine", 5.0, tag="tag-1")
    assert accepted is Accepted.LEASED and snapshot is not None
    assert [p.entry_id for p in snapshot.pending] == ["1-0"] and snapshot.tag == "tag-1"

    follow_up = message("1800000000.000200", "it blinks red")
    accepted, snapshot = await threads.accept_and_begin(follow_up, "2-0", "theirs", 6.0, tag="tag-2")
    assert accepted is Accepted.QUEUED and snapshot is None  # another worker answers this thread
    assert (await threads.state(THREAD)).reply_pass == "tag-1"  # and its tag was left alone


async def test_a_pass_under_a_lost_lease_records_no_tag(redis: Redis) -> None:
    threads = store(redis)
    await threads.accept(message(THREAD.thread_ts), "1-0", "theirs", 1.0)
    snapshot = await threads.begin(THREAD, tag="mine", now=2.0, lease="mine")
    assert snapshot.tag == "" and (await threads.state(THREAD)).reply_pass == ""


async def test_a_message_answered_from_the_ingress_copy_brings_its_stream_entry_to_acknowledge(redis: Redis) -> None:
    """The lease holder may answer a message from the ingress's copy (no entry id yet) while another
    worker reads its stream entry: the commit hands that entry over, so it is acknowledged with the
    answer instead of staying pending until XAUTOCLAIM (and inflating the pending count meanwhile)."""
    threads = store(redis)
    early = message("1800000000.000200", "and the app too")
    await threads.accept(message("1800000000.000100"), "1-0", "holder", 1.0)  # the holder answers thread
    assert await threads.accept(early, "", "", 2.0, take_lease=False) is Accepted.QUEUED  # the ingress's copy
    batch = (await threads.begin(THREAD, tag="t", now=3.0)).pending
    assert [p.entry_id for p in batch] == ["1-0", ""]
    assert await threads.accept(early, "2-0", "reader", 4.0) is Accepted.QUEUED  # its entry, read elsewhere

    committed = await threads.commit(
        THREAD, batch, [StoredTurn("assistant", "Restart the hub.")], 5.0, release="holder"
    )
    assert committed.release is Release.RELEASED
    assert sorted(committed.entry_ids) == ["1-0", "2-0"]
    assert sorted(Answered.of(batch, None, committed).entry_ids) == ["1-0", "2-0"]  # what the worker acknowledges

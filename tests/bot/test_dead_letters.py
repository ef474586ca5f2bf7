"""A message whose pass keeps failing is set aside (dead-lettered) with an apology, never retried for
ever; `sarah dead-letters` shows it and replays it once the fault is gone."""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.cli.dead_letters import main as dead_letters
from bot.cli.main import main as sarah_command
from config.settings import TextSettings
from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.store.inbox import GROUP, STREAM, Inbox
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.server import eventually_async
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_checks import refuse_posts_in
from sarah_testing.slack_payloads import dm, new_ts
from tests.conftest import REDIS_TEST_URL, SUPPORT_CHANNEL, StartSarah, dead_count

APOLOGY = TextSettings.model_fields["text_apology"].default
HANDOFF = TextSettings.model_fields["text_handoff"].default


async def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await asyncio.to_thread(dead_letters, list(args), stdout=out, stderr=out)
    return code, out.getvalue()


async def inbox_is_empty(redis: Redis) -> bool:
    pending = await redis.xpending(STREAM, GROUP)
    return int(await redis.xlen(STREAM)) == 0 and int(pending["pending"]) == 0


async def test_a_channel_slack_keeps_refusing_is_dead_lettered_then_replayed_with_the_cli(
    start_sarah: StartSarah,
    redis: Redis,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = {"D0GONE"}
    refuse_posts_in(fake_slack, monkeypatch, broken)
    _, slack = await start_sarah(worker={"dead_letter_after_passes": 2})
    ts = new_ts()
    await slack.event(dm("where is my ZenHub order?", channel="D0GONE", ts=ts))

    await eventually_async(lambda: dead_count(redis))
    assert await inbox_is_empty(redis)
    await fake_slack.wait_for(  # the apology was tried too (and refused)
        lambda: [p for p in fake_slack.calls_to("chat.postMessage") if p["channel"] == "D0GONE" and "Sorry" in str(p)]
    )
    attempts = len([p for p in fake_slack.calls_to("chat.postMessage") if p["channel"] == "D0GONE"])
    await asyncio.sleep(1.0)  # a retry, were there one, would have been made by now
    assert len([p for p in fake_slack.calls_to("chat.postMessage") if p["channel"] == "D0GONE"]) == attempts

    monkeypatch.setenv("REDIS_URL", REDIS_TEST_URL)
    code, listing = await cli("list")
    assert code == 0
    assert "1 dead letter" in listing and f"D0GONE:{ts}" in listing
    assert "SlackApiError after 2 failed passes" in listing
    assert "ZenHub order" not in listing  # customer text only in `show`
    dead_id = re.findall(r"\b\d{13,}-\d+\b", listing)[0]
    code, shown = await cli("show", dead_id)
    assert code == 0 and "where is my ZenHub order?" in shown and "channel_not_found" in shown

    broken.clear()  # the fault is gone
    code, replayed = await cli("replay", "--all")
    assert code == 0 and f"Replayed {dead_id}" in replayed
    answer = ["Answering: where is my ZenHub order?"]  # waited for whole: a streamed answer grows in place
    await fake_slack.wait_for(lambda: [m.body for m in fake_slack.thread("D0GONE", ts)] == answer)
    # The answer is posted before it is committed, and the entry is acknowledged with the worker's
    # next read (which may block for half a second first): wait for that, then look for a second answer.
    await eventually_async(lambda: inbox_is_empty(redis))
    assert [m.body for m in fake_slack.thread("D0GONE", ts)] == answer
    assert await dead_count(redis) == 0


async def test_a_pass_that_raises_gets_the_apology_in_place_of_typing_and_a_replay_answers_it(
    start_sarah: StartSarah, redis: Redis, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    sarah, slack = await start_sarah(worker={"dead_letter_after_passes": 2})
    working = sarah.parts.pipeline._ask_model

    async def broken(*args: Any) -> Any:
        raise RuntimeError("a bug in the pass")

    monkeypatch.setattr(sarah.parts.pipeline, "_ask_model", broken)
    ts = new_ts()
    await slack.event(dm("my ZenLock is offline", ts=ts))
    await fake_slack.wait_for(lambda: [m for m in fake_slack.thread("D0CUSTOMER", ts) if m.body == APOLOGY])
    assert [m.body for m in fake_slack.thread("D0CUSTOMER", ts)] == [APOLOGY]  # "typing…" replaced in place
    [letter] = await sarah.parts.dead_letters.oldest()
    assert (letter.error, letter.detail, letter.passes) == ("RuntimeError", "a bug in the pass", 2)
    assert letter.message is not None and letter.message.text == "my ZenLock is offline"
    assert await inbox_is_empty(redis)

    monkeypatch.setattr(sarah.parts.pipeline, "_ask_model", working)
    assert await sarah.parts.dead_letters.replay(letter.dead_id) is not None
    both = [APOLOGY, "Answering: my ZenLock is offline"]  # waited for whole: a streamed answer grows in place
    await fake_slack.wait_for(lambda: [m.body for m in fake_slack.thread("D0CUSTOMER", ts)] == both)
    await asyncio.sleep(0.5)
    assert [m.body for m in fake_slack.thread("D0CUSTOMER", ts)] == both
    assert await dead_count(redis) == 0


async def test_a_dead_lettered_thread_counts_toward_the_hand_off(
    start_sarah: StartSarah, redis: Redis, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    sarah, slack = await start_sarah(worker={"dead_letter_after_passes": 1}, handoff={"handoff_after_failures": 1})

    async def broken(*args: Any) -> Any:
        raise RuntimeError("a bug in the pass")

    monkeypatch.setattr(sarah.parts.pipeline, "_ask_model", broken)
    ts = new_ts()
    await slack.event(dm("the ZenHub light is red", ts=ts))
    card = await fake_slack.wait_for(lambda: [m for m in fake_slack.messages if m.channel == SUPPORT_CHANNEL])
    assert "model was unavailable" in card[0].body
    await fake_slack.wait_for(lambda: [m.body for m in fake_slack.thread("D0CUSTOMER", ts)] == [HANDOFF])
    assert await dead_count(redis) == 1


async def test_a_failing_pass_below_the_limit_is_retried_not_dead_lettered(
    start_sarah: StartSarah, redis: Redis, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah(slack={"slack_rate_limit_retries": 0}, worker={"dead_letter_after_passes": 3})
    fake_slack.rate_limit_next(1)  # one failed pass
    ts = new_ts()
    await slack.event(dm("hello after a hiccup", ts=ts))
    await fake_slack.wait_for(lambda: [m for m in fake_slack.thread("D0CUSTOMER", ts) if "Answering" in m.body])
    await eventually_async(lambda: inbox_is_empty(redis))
    assert await redis.hlen("sarah:{inbox}:failed-passes") == 0  # answered: its count is forgotten
    assert await dead_count(redis) == 0


async def test_idle_consumers_are_removed_only_once_nothing_is_pending(redis: Redis) -> None:
    inbox = Inbox(redis, dedupe_ttl_seconds=60, max_length=1_000)
    await inbox.ensure_group()
    ts = new_ts()
    await inbox.put(InboundMessage(ThreadRef("D0CUSTOMER", ts), ts, "UCUSTOMER", "hello", Kind.DM))
    [entry] = await inbox.read("crashed-worker", count=10, block_ms=10)
    await redis.xgroup_createconsumer(STREAM, GROUP, "idle-worker")  # a worker that never got work
    await asyncio.sleep(0.05)

    assert await inbox.remove_idle_consumers("me", min_idle_ms=20) == ["idle-worker"]  # the crashed one has work

    [reclaimed] = await inbox.reclaim("me", min_idle_ms=0)
    await inbox.done([reclaimed.entry_id])
    await asyncio.sleep(0.05)
    assert await inbox.remove_idle_consumers("me", min_idle_ms=20) == ["crashed-worker"]
    consumers = await redis.xinfo_consumers(STREAM, GROUP)
    assert [c["name"] for c in consumers] == [b"me"]
    assert reclaimed.entry_id == entry.entry_id


async def test_the_command_says_when_there_is_nothing_and_names_a_wrong_id(
    redis: Redis, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", REDIS_TEST_URL)
    assert await asyncio.to_thread(sarah_command, ["dead-letters", "list"]) == 0
    assert "No dead letters" in capsys.readouterr().out
    assert await cli("show", "1-0") == (1, "No dead letter 1-0 (`sarah dead-letters list` shows them).\n")
    assert await cli("replay", "1-0") == (1, "No dead letter 1-0 (`sarah dead-letters list` shows them).\n")
    with pytest.raises(SystemExit) as exit_:
        await cli("drop", "last-week")
    assert exit_.value.code == 2
    assert "'last-week' is not a dead letter id" in capsys.readouterr().err


async def test_failed_passes_are_counted_in_redis_across_a_takeover_by_another_worker(redis: Redis) -> None:
    inbox = Inbox(redis, dedupe_ttl_seconds=60, max_length=1_000)
    await inbox.ensure_group()
    ts = new_ts()
    await inbox.put(InboundMessage(ThreadRef("D0CUSTOMER", ts), ts, "UCUSTOMER", "hello", Kind.DM))
    [entry] = await inbox.read("worker-that-crashes", count=10, block_ms=10)
    assert await inbox.count_failed_pass([entry.entry_id], ttl_seconds=60) == 1
    assert await inbox.count_failed_pass([entry.entry_id], ttl_seconds=60) == 2

    [taken] = await inbox.reclaim("next-worker", min_idle_ms=0)  # the first worker died
    assert await inbox.count_failed_pass([taken.entry_id], ttl_seconds=60) == 3
    await inbox.done([taken.entry_id])
    assert await inbox.count_failed_pass([taken.entry_id], ttl_seconds=60) == 1  # answered: forgotten


async def test_a_queued_message_no_worker_has_read_yet_does_not_stop_the_others_being_dead_lettered(
    start_sarah: StartSarah,
    redis: Redis,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ingress queues a message in its thread before its stream entry is read; a failing pass
    that sees it dead-letters the messages that have an entry, and leaves that one to its own."""
    refuse_posts_in(fake_slack, monkeypatch, {"D0GONE"})
    sarah, slack = await start_sarah(worker={"dead_letter_after_passes": 2})
    ts = new_ts()
    unread = InboundMessage(ThreadRef("D0GONE", ts), new_ts(), "UCUSTOMER", "and my ZenCam?", Kind.DM)
    await sarah.parts.store.accept(unread, "", "", 0.0, take_lease=False)  # as the ingress leaves it
    await slack.event(dm("where is my ZenHub order?", channel="D0GONE", ts=ts))

    await eventually_async(lambda: dead_count(redis))
    assert await dead_count(redis) == 1
    assert [p.message.text for p in await sarah.parts.store.pending(ThreadRef("D0GONE", ts))] == ["and my ZenCam?"]

"""`sarah forget` forgets everything Sarah keeps about a person, as the key schema lists it; dead
letters are kept only for their retention, and a replay never brings a forgotten person back."""

from __future__ import annotations

import asyncio
import inspect
import io
import time
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.cli.dead_letters import main as dead_letters
from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.store import keys
from handlers.store.dead_letters import DeadLetters
from handlers.store.values import Pending
from sarah_testing.handoff_steps import CUSTOMER_DM, escalated_dm, said
from sarah_testing.server import eventually_async
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_checks import refuse_posts_in
from sarah_testing.slack_payloads import channel_message, dm, mention, new_ts, slash_command
from tests.conftest import REDIS_TEST_URL, StartSarah, dead_count

USER = "UCUSTOMER"
SECRET = "my alarm code is 4711"


def schema_families() -> set[str]:
    """Every key family `handlers/store/keys.py` can build, by the name that builds it."""
    found: set[str] = set()
    for name, value in vars(keys).items():
        if isinstance(value, str) and value.startswith("sarah:"):
            found.add(name)
        elif inspect.isfunction(value) and value.__module__ == keys.__name__ and name != "own_keys":
            args = [ThreadRef("C1", "1.0") if p == "thread" else 1 if p == "minute" else "x" for p in _params(value)]
            built = value(*args)
            if isinstance(built, keys.ThreadKeys):
                found.update(f"ThreadKeys.{field}" for field in built.__dataclass_fields__)
            elif isinstance(built, str) and built.startswith("sarah:"):
                found.add(name)
    return found


def _params(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_every_key_family_in_the_schema_has_a_forget_rule() -> None:
    families = schema_families()
    assert families - set(keys.FORGET) == set(), "a key family without a forget rule in keys.FORGET"
    assert set(keys.FORGET) - families == set(), "a forget rule for a key family the schema no longer has"


def test_forget_deletes_every_key_of_the_person_by_name() -> None:
    own = set(keys.own_keys("UX", 100))
    for name, rule in keys.FORGET.items():
        if rule is keys.Forget.OWN:
            builder = getattr(keys, name)
            built = builder("UX", 100) if "minute" in _params(builder) else builder("UX")
            assert built in own, f"{name} is the person's own key, but forget does not delete it"


async def every_value(redis: Redis) -> dict[str, str]:
    """Every key in the test database and everything in it, as text."""
    found: dict[str, str] = {}
    async for raw in redis.scan_iter(count=1000):
        key = raw.decode()
        kind = (await redis.type(key)).decode()
        if kind == "string":
            value: Any = await redis.get(key)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "set":
            value = await redis.smembers(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1)
        else:
            value = await redis.xrange(key)
        found[key] = str(value)
    return found


async def test_forget_leaves_nothing_of_the_person_and_a_replay_brings_nothing_back(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_posts_in(fake_slack, monkeypatch, {"D0GONE"})
    _, slack = await start_sarah(worker={"dead_letter_after_passes": 2})
    lost = new_ts()
    await slack.event(dm(SECRET, channel="D0GONE", ts=lost))  # set aside: Slack refuses that channel
    await eventually_async(lambda: dead_count(redis))
    await escalated_dm(slack, fake_slack)  # a conversation with a card and its relay state
    others = new_ts()
    await slack.event(mention("our ZenCam is offline", user="UBYSTANDER", channel="C0OTHER", ts=others))
    await fake_slack.wait_for(lambda: fake_slack.thread("C0OTHER", others))
    await slack.event(channel_message("same here", thread_ts=others, channel="C0OTHER"))  # only replied there
    await said(fake_slack, "C0OTHER", others, "same here")
    assert await slack.event({"type": "app_home_opened", "user": USER, "channel": "D0HOME", "tab": "home"}) == 200
    await fake_slack.wait_for(lambda: fake_slack.home_views.get(USER))

    forget = slash_command("forget")
    status, body = await slack.command(forget)
    assert status == 200 and "Deleting" in body
    assert "deleted 2 conversations" in await fake_slack.answer_to(forget)
    left = await every_value(redis)
    others_turns = f"sarah:{{C0OTHER:{others}}}:turns"  # their line in someone else's thread stays
    assert [key for key, value in left.items() if USER in key + value and key != others_turns] == []
    assert [key for key, value in left.items() if "4711" in value] == []

    monkeypatch.setenv("REDIS_URL", REDIS_TEST_URL)
    out = io.StringIO()
    assert await asyncio.to_thread(dead_letters, ["replay", "--all"], stdout=out, stderr=out) == 0
    await asyncio.sleep(0.5)
    assert not await redis.exists(f"sarah:{{D0GONE:{lost}}}:state", f"sarah:{{D0GONE:{lost}}}:turns")
    assert [key for key, value in (await every_value(redis)).items() if "4711" in value] == []


async def test_a_person_who_only_replied_in_other_peoples_threads_is_forgotten_too(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    _, slack = await start_sarah()
    others = new_ts()
    await slack.event(mention("our ZenCam is offline", user="UBYSTANDER", channel="C0OTHER", ts=others))
    await fake_slack.wait_for(lambda: fake_slack.thread("C0OTHER", others))
    await slack.event(channel_message("same here", thread_ts=others, channel="C0OTHER"))
    await said(fake_slack, "C0OTHER", others, "same here")
    assert await redis.keys(f"*{USER}*")
    forget = slash_command("forget", channel="C0OTHER")
    status, _ = await slack.command(forget)
    assert status == 200 and "no conversations of yours" in await fake_slack.answer_to(forget)
    assert await redis.keys(f"*{USER}*") == []


# -- dead letters are kept for their retention only --------------------------------------------------


def pending(user: str, text: str) -> Pending:
    message = InboundMessage(ThreadRef(CUSTOMER_DM, "1700000000.000100"), new_ts(), user, text, Kind.DM)
    return Pending(message, "1-1")


async def test_dead_letters_past_their_retention_are_never_shown_or_replayed(redis: Redis) -> None:
    now = [time.time()]  # the stream's ids are the real times of its entries
    dead = DeadLetters(redis, max_length=1000, retention_seconds=86_400, clock=lambda: now[0])
    await dead.bury(f"{CUSTOMER_DM}:1700000000.000100", [pending(USER, SECRET)], RuntimeError("boom"), 5)
    kept = await dead.ids()
    assert len(kept) == 1
    assert 0 < await redis.pttl(keys.DEAD_LETTERS) <= 86_400_000  # the stream itself expires too
    now[0] += 86_400 + 60  # a day and a minute later
    assert await dead.oldest() == []
    assert await dead.replay(kept[0]) is None
    assert not await redis.exists(keys.DEAD_LETTERS) or await redis.xlen(keys.DEAD_LETTERS) == 0


def test_the_dead_letter_retention_is_a_setting_with_a_two_week_default() -> None:
    from config.settings import RetentionSettings

    assert RetentionSettings().dead_letter_retention_days == 14

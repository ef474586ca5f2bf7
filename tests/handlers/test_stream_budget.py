"""The per-workspace streaming budget (one Lua script over a sliding minute in Redis)."""

from __future__ import annotations

from redis.asyncio import Redis

from handlers.stream_budget import StreamBudget
from handlers.streaming import MIN_APPEND_CHARS, ready_text


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_workspace_streams_its_share_a_minute_then_again_as_the_minute_slides(redis: Redis) -> None:
    clock = Clock()
    budget = StreamBudget(redis, per_minute=3, clock=clock)
    assert [await budget.take("TZEN") for _ in range(4)] == [True, True, True, False]
    assert await budget.take("TOTHER")  # another workspace has its own minute
    clock.now += 30
    assert not await budget.take("TZEN")
    clock.now += 31  # the first three starts are more than a minute old
    assert await budget.take("TZEN")


async def test_a_429_spends_the_budget_for_slacks_retry_after(redis: Redis) -> None:
    clock = Clock()
    budget = StreamBudget(redis, per_minute=8, clock=clock)
    await budget.exhausted("TZEN", retry_after=90)
    clock.now += 80
    assert not await budget.take("TZEN")
    clock.now += 11
    assert await budget.take("TZEN")


async def test_a_budget_of_zero_never_streams(redis: Redis) -> None:
    assert not await StreamBudget(redis, per_minute=0).take("TZEN")


def test_only_complete_sentences_of_enough_new_text_are_shown() -> None:
    sentence = "Unplug the hub and wait ten seconds. " * 8
    assert ready_text("Unplug the hub and wait", "") is None  # no sentence is complete yet
    assert ready_text("Short. And", "") is None  # too little to be worth a call
    assert ready_text(sentence + "Then plug", "") == sentence.rstrip()
    assert ready_text(sentence + "Then plug", sentence.rstrip()) is None
    fenced = sentence + "```\nzen reset. now\n"
    assert ready_text(fenced, "") == sentence  # never half a code block
    assert len(sentence) >= MIN_APPEND_CHARS

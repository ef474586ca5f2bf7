"""The per-workspace streaming budget (one Lua script over a sliding minute in Redis)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from handlers.store.stream_budget import StreamBudget
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


class CountingRedis:
    """The real client, counting the scripts run on it."""

    def __init__(self, redis: Redis) -> None:
        self.redis, self.calls = redis, 0

    def register_script(self, script: str) -> object:
        real = self.redis.register_script(script)

        async def run(**kwargs: object) -> object:
            self.calls += 1
            return await real(**kwargs)  # type: ignore[arg-type]

        return run


async def test_a_spent_budget_is_not_asked_about_again_until_its_oldest_start_leaves_the_minute(
    redis: Redis,
) -> None:
    clock = Clock()
    counting = CountingRedis(redis)
    budget = StreamBudget(counting, per_minute=2, clock=clock)  # type: ignore[arg-type]
    assert await budget.take("TZEN")
    clock.now += 20
    assert await budget.take("TZEN")
    asked = counting.calls
    assert not await budget.left("TZEN")
    assert counting.calls == asked + 1  # found spent once...
    clock.now += 39
    assert not await budget.left("TZEN")
    assert counting.calls == asked + 1  # ...then known spent until the first start is a minute old
    clock.now += 2
    assert await budget.left("TZEN")  # a minute and a second after the first start: one left again
    assert counting.calls == asked + 2


async def test_a_start_refused_for_a_spent_budget_tells_the_process_until_when(redis: Redis) -> None:
    """In a burst every pass may ask `left` before anyone has started a stream; the passes that then
    fail to start one must not each ask again (a round trip per answer for the rest of the minute)."""
    clock = Clock()
    counting = CountingRedis(redis)
    budget = StreamBudget(counting, per_minute=1, clock=clock)  # type: ignore[arg-type]
    other = StreamBudget(redis, per_minute=1, clock=clock)  # another process took the minute's one stream
    assert await other.take("TZEN")
    clock.now += 10
    assert not await budget.take("TZEN")
    asked = counting.calls
    clock.now += 49
    assert not await budget.left("TZEN")
    assert counting.calls == asked  # known spent until the other start is a minute old
    clock.now += 2
    assert await budget.left("TZEN")
    assert counting.calls == asked + 1


async def test_passes_asking_at_once_ask_redis_once_and_only_the_budgets_share_may_try(redis: Redis) -> None:
    clock = Clock()
    counting = CountingRedis(redis)
    budget = StreamBudget(counting, per_minute=3, clock=clock)  # type: ignore[arg-type]
    assert await StreamBudget(redis, per_minute=3, clock=clock).take("TZEN")  # another process streamed one
    answers = await asyncio.gather(*(budget.left("TZEN") for _ in range(20)))
    assert answers.count(True) == 2  # what the minute has left
    assert counting.calls == 1
    clock.now += 2  # a second later Redis is asked again: nobody started the two streams
    assert await budget.left("TZEN")
    assert counting.calls == 2

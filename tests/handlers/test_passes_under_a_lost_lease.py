"""A pass whose lease another worker takes over while people have the thread stops where it is:
it posts nothing more and stores nothing, so the new holder's pass is the one that counts and the
thread's memory holds each line once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from config.settings import TextSettings
from handlers.delivery import Texts
from handlers.handoff import Handoff, HandoffTexts
from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.model import Conversation, Reply
from handlers.outbox import Card, CardRef, OffSlackOutbox
from handlers.pipeline import Pipeline
from handlers.store.keys import thread_keys
from handlers.store.ownership import OwnershipStore
from handlers.store.thread_store import ThreadStore
from handlers.store.values import Release
from handlers.tokens import encoder_for

CUSTOMER, AGENT = "UCUSTOMER", "UAGENT"
DM = ThreadRef("D0CUSTOMER", "1800000000.000100")
CARD = ThreadRef("C0SUPPORT", "1800000001.000100")


class Unused:
    name = "unused"

    async def reply(self, conversation: Conversation) -> Reply:
        raise AssertionError("people have the thread: Sarah's model is not asked")


class Outbox(OffSlackOutbox):
    """What reaches the customer and the card's thread; `meanwhile` runs once, during the first post."""

    def __init__(self) -> None:
        self.to_customer_lines: list[str] = []
        self.on_card: list[str] = []
        self.meanwhile: Callable[[], Awaitable[None]] | None = None

    async def _first_post(self) -> None:
        run, self.meanwhile = self.meanwhile, None
        if run is not None:
            await run()

    async def relay_to_customer(self, thread: ThreadRef, ref: CardRef, agent: str, text: str) -> None:
        self.to_customer_lines.append(text)
        await self._first_post()

    async def customer_said(self, ref: CardRef, customer: str, text: str, *, has_files: bool = False) -> None:
        self.on_card.append(text)
        await self._first_post()

    async def send(self, thread: ThreadRef, text: str, **kwargs: Any) -> str | None:
        return None

    async def post_card(self, card: Card) -> CardRef | None:
        return None

    async def to_customer(self, thread: ThreadRef, agent: str, text: str) -> None:
        return None

    async def display_name(self, user: str) -> str:
        return user


async def team(user: str) -> bool:
    return user == AGENT


def parts(redis: Redis) -> tuple[ThreadStore, Pipeline, Outbox]:
    store = ThreadStore(redis, ttl_seconds=3_600, max_turns=50, lease_seconds=15)
    ownership = OwnershipStore(redis, ttl_seconds=3_600, max_turns=50)
    outbox = Outbox()
    texts = TextSettings()
    handoff = Handoff(store, ownership, outbox, Unused(), texts=HandoffTexts.from_settings(texts), reminder_seconds=60)
    pipeline = Pipeline(
        store,
        ownership,
        handoff,
        Unused(),
        outbox,
        encoder=encoder_for(""),
        token_budget=4_000,
        texts=Texts.from_settings(texts, 4_000),
        is_support=team,
    )
    return store, pipeline, outbox


async def with_people(store: ThreadStore) -> None:
    """The customer's DM is with an agent, and its card's thread relays to it."""
    await store.set_fields(
        DM, created_at=1.0, owner="human", customer=CUSTOMER, card_channel=CARD.channel, card_ts=CARD.thread_ts
    )
    await store.set_fields(CARD, relay_to=DM.key, kind="card")


async def taken_over(redis: Redis, thread: ThreadRef, pipeline: Pipeline) -> None:
    """The first worker's lease expired and another took it: that worker answers the thread now."""
    await redis.set(thread_keys(thread).lease, "worker-2")
    answered = await pipeline.answer_pending(thread, lease="worker-2")
    assert answered.release is not Release.LOST


async def test_a_relay_whose_lease_is_taken_over_posts_and_stores_nothing_more(redis: Redis) -> None:
    store, pipeline, outbox = parts(redis)
    await with_people(store)
    lines = ["Hi, I'm Ana from ZenNest.", "Could you hold the hub's button for ten seconds?"]
    for i, line in enumerate(lines):
        message = InboundMessage(CARD, f"1800000002.00010{i}", AGENT, line, Kind.THREAD_REPLY)
        await store.accept(message, f"{i + 1}-0", "worker-1", 1.0)
    outbox.meanwhile = lambda: taken_over(redis, CARD, pipeline)

    answered = await pipeline.answer_pending(CARD, lease="worker-1")

    assert answered.release is Release.LOST and answered.entry_ids == []
    assert outbox.to_customer_lines.count(lines[1]) == 1  # the old holder did not send it after losing the lease
    assert [t.content for t in await store.history(DM)] == lines  # each agent line stored once
    assert await store.pending(CARD) == []


async def test_a_message_held_for_people_whose_lease_is_taken_over_is_stored_once(redis: Redis) -> None:
    store, pipeline, outbox = parts(redis)
    await with_people(store)
    lines = ["the hub is still red", "and the app says offline"]
    for i, line in enumerate(lines):
        message = InboundMessage(DM, f"1800000002.00010{i}", CUSTOMER, line, Kind.DM)
        await store.accept(message, f"{i + 1}-0", "worker-1", 1.0)
    outbox.meanwhile = lambda: taken_over(redis, DM, pipeline)

    answered = await pipeline.answer_pending(DM, lease="worker-1")

    assert answered.release is Release.LOST and answered.entry_ids == []
    assert outbox.on_card.count(lines[1]) == 1  # the agent reads it once
    assert [t.content for t in await store.history(DM)] == lines  # each line stored once
    assert await store.pending(DM) == []


async def test_without_a_takeover_the_relay_stores_the_agents_lines_and_gives_their_entries(redis: Redis) -> None:
    store, pipeline, outbox = parts(redis)
    await with_people(store)
    message = InboundMessage(CARD, "1800000002.000100", AGENT, "Hi, I'm Ana from ZenNest.", Kind.THREAD_REPLY)
    await store.accept(message, "1-0", "worker-1", 1.0)

    answered = await pipeline.answer_pending(CARD, lease="worker-1")

    assert answered.entry_ids == ["1-0"] and outbox.to_customer_lines == ["Hi, I'm Ana from ZenNest."]
    assert [t.content for t in await store.history(DM)] == ["Hi, I'm Ana from ZenNest."]

"""Conversations live in Redis with a TTL; the stream does not grow; the prompt stays in budget."""

from __future__ import annotations

from redis.asyncio import Redis

from handlers.store.inbox import STREAM
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.server import eventually_async, stream_is_empty
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import channel_message, dm, mention, new_ts
from tests.conftest import StartSarah


async def test_every_key_has_a_ttl_and_the_stream_is_trimmed(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    _, slack = await start_sarah(retention={"conversation_ttl_days": 2, "dedupe_ttl_hours": 1})
    roots = [new_ts() for _ in range(3)]
    await slack.event(dm("first", ts=roots[0]))
    await slack.event(mention("second", ts=roots[1]))
    await slack.event(dm("third", ts=roots[2], channel="D0OTHER", user="UOTHER"))
    await fake_slack.wait_for(lambda: sum("Answering" in m.body for m in fake_slack.messages) == 3)
    await slack.event(channel_message("follow-up", thread_ts=roots[1]))
    await fake_slack.wait_for(lambda: sum("Answering" in m.body for m in fake_slack.messages) == 4)

    await fake_slack.wait_for(lambda: True)
    keys = [k.decode() for k in await redis.keys("sarah:*") if k.decode() != STREAM]
    # the support team's daily counts name no person or conversation: kept a year for reports and digests
    stats_keys = [k for k in keys if k.startswith("sarah:{stats}:")]
    conversation_keys = [k for k in keys if not k.startswith(("sarah:{inbox}", "sarah:{stats}"))]
    inbox_keys = [k for k in keys if k.startswith("sarah:{inbox}:")]
    assert len([k for k in inbox_keys if ":seen:" in k]) == 4
    assert len(conversation_keys) >= 3 * 3  # state, turns, answered of each thread
    ttls = {key: await redis.ttl(key) for key in keys}
    assert -1 not in ttls.values(), "a key without a TTL"
    for key in conversation_keys:
        assert ttls[key] <= 2 * 86_400, key  # a lease (seconds) or the conversation's retention
    for key in inbox_keys:
        assert ttls[key] <= 3_600, key
    for key in stats_keys:
        assert ttls[key] <= 400 * 86_400, key
        stored = key + str(await redis.hgetall(key))
        assert "UCUSTOMER" not in stored and "UOTHER" not in stored
    await eventually_async(lambda: stream_is_empty(redis, STREAM))  # answered entries acknowledged and deleted


async def test_a_long_thread_keeps_the_prompt_within_budget_and_keeps_the_newest_turns(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah(model={"prompt_token_budget": 600})
    root = new_ts()
    filler = "My ZenGlow bulbs flicker whenever the dishwasher runs in the evening. " * 6
    await slack.event(dm(f"turn 0: {filler}", ts=root))
    for i in range(1, 8):
        await fake_slack.wait_for(
            lambda i=i: sum("Answering" in m.body for m in fake_slack.thread("D0CUSTOMER", root)) == i
        )
        await slack.event(dm(f"turn {i}: {filler}", thread_ts=root))
    await fake_slack.wait_for(lambda: sum("Answering" in m.body for m in fake_slack.thread("D0CUSTOMER", root)) == 8)

    from handlers.tokens import encoder_for

    encoder = encoder_for("gpt-4.1-mini")
    last = fake_openai.requests[-1]
    tokens = sum(len(encoder.encode(m["content"])) + 3 for m in last["messages"])
    assert tokens <= 600
    users = [m["content"] for m in last["messages"] if m["role"] == "user"]
    assert users[-1].startswith("turn 7:")  # the newest turn is always there
    assert not any(u.startswith("turn 0:") for u in users)  # the oldest went first
    assert [int(u.split(":")[0].split()[1]) for u in users] == sorted(int(u.split(":")[0].split()[1]) for u in users)


async def test_an_oversized_message_is_cut_with_a_marker_not_dropped(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah(model={"prompt_token_budget": 400})
    ts = new_ts()
    await slack.event(dm("Here is my whole router log: " + "wlan0 dropped packet 0x1f; " * 400, ts=ts))
    await fake_slack.wait_for(lambda: fake_slack.thread("D0CUSTOMER", ts) and fake_openai.requests)
    user = [m["content"] for m in fake_openai.requests[0]["messages"] if m["role"] == "user"]
    assert len(user) == 1
    assert user[0].startswith("Here is my whole router log: wlan0")
    assert "was cut" in user[0]


async def test_a_retried_accept_keeps_the_lease_it_took(redis: Redis) -> None:
    """redis-py retries a command whose reply was lost; the retry must not turn "leased" into
    "queued", or nobody would answer the thread until its lease lapsed."""
    from handlers.messages import InboundMessage, Kind, ThreadRef
    from handlers.store.thread_store import ThreadStore
    from handlers.store.values import Accepted

    store = ThreadStore(redis, ttl_seconds=60, max_turns=10, lease_seconds=15)
    ts = new_ts()
    message = InboundMessage(ThreadRef("D0CUSTOMER", ts), ts=ts, user="U0CUSTOMER", text="hi", kind=Kind.DM)
    assert await store.accept(message, "1-0", "token-a", 1.0) is Accepted.LEASED
    assert await store.accept(message, "1-0", "token-a", 1.0) is Accepted.LEASED  # the same call, retried
    assert await store.accept(message, "1-0", "token-b", 1.0) is Accepted.QUEUED  # another worker's

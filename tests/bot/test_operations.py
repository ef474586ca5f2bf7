"""Running Sarah like a service: /metrics after a real conversation, /healthz and /readyz in every role,
JSON logs without customer text, and the support team's queue in App Home."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.ops.logs import configure_logging
from bot.runtime import Sarah
from sarah_testing.handoff_steps import AGENT, CUSTOMER_DM, cards, escalated_dm, press, said
from sarah_testing.openai_chat import FakeOpenAI, HttpError, echo_responder
from sarah_testing.probes import Samples, get, scrape, value
from sarah_testing.server import eventually_async, stream_is_empty
from sarah_testing.slack_api import FakeSlack, Posted
from sarah_testing.slack_payloads import dm, new_ts
from tests.conftest import REDIS_TEST_URL, SUPPORT_CHANNEL, StartSarah, sarah_settings


def answers(fake_slack: FakeSlack, ts: str) -> list[Posted]:
    return [m for m in fake_slack.thread(CUSTOMER_DM, ts) if "Answering" in m.body]


async def test_metrics_follow_a_conversation_with_a_failure_a_retry_a_hand_off_a_claim_and_a_resolution(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    sarah, slack = await start_sarah(slack={"sarah_health_port": 0})
    before = await scrape(sarah)
    assert value(before, "sarah_messages_received_total") == 0

    # Slack answers Sarah's next loading status 429, with Retry-After
    fake_slack.rate_limit_method("assistant.threads.setStatus", 1, retry_after=1)
    root = new_ts()
    question = dm("how do I add a ZenSense?", ts=root)
    assert await slack.event(question) == 200
    assert await slack.event(question, retry_num=1) == 200  # Slack's retry of the same message
    answer = (await fake_slack.wait_for(lambda: answers(fake_slack, root)))[0]
    await press(slack, fake_slack, "sarah_helped", answer, user="UCUSTOMER", channel=CUSTOMER_DM)

    fake_openai.responder = lambda _: HttpError(500)
    broken = new_ts()
    await slack.event(dm("is my hub broken?", ts=broken))
    await fake_slack.wait_for(lambda: fake_slack.thread(CUSTOMER_DM, broken)[-1:] and fake_openai.requests[1:])
    fake_openai.responder = echo_responder

    _, card = await escalated_dm(slack, fake_slack)
    waiting = await scrape(sarah)
    assert value(waiting, "sarah_unclaimed_cards") == 1 and value(waiting, "sarah_open_handoffs") == 1
    assert value(waiting, "sarah_oldest_unclaimed_seconds") >= 0
    await press(slack, fake_slack, "sarah_claim", card)
    await fake_slack.wait_for(lambda: "Claimed by <@UAGENT>" in card.body)
    await press(slack, fake_slack, "sarah_resolve", card)
    await fake_slack.wait_for(lambda: "Resolved by <@UAGENT>" in card.body)

    # answered entries are acknowledged with the worker's next read of the stream (within half a second)
    await eventually_async(lambda: stream_is_empty(sarah.redis, sarah.parts.inbox.stream))
    after = await scrape(sarah)
    assert value(after, "sarah_messages_received_total") == 4  # question, its retry, "broken?", "a person"
    assert value(after, "sarah_messages_queued_total") == 3
    assert value(after, "sarah_messages_deduplicated_total") == 1
    assert value(after, "sarah_ack_seconds_count") == 4
    assert value(after, "sarah_feedback_total", verdict="helped") == 1
    # the loading status answered 429 is counted under its method
    assert value(after, "sarah_slack_rate_limited_total", method="assistant.threads.setStatus") == 1
    assert value(after, "sarah_slack_calls_total", method="chat.postMessage") >= 5
    assert value(after, "sarah_model_calls_total", outcome="unavailable") == 1
    assert value(after, "sarah_model_errors_total") == 1
    assert value(after, "sarah_model_calls_total", outcome="answered") == 2  # the answer and the card's summary
    assert value(after, "sarah_model_tokens_total", kind="input") == 20  # the fake reports 10 + 5 per answer
    assert value(after, "sarah_model_tokens_total", kind="output") == 10
    assert value(after, "sarah_model_seconds_count") == 3
    assert value(after, "sarah_handoffs_total", reason="customer_asked") == 1
    assert value(after, "sarah_claims_total", previous="waiting") == 1
    assert value(after, "sarah_resolutions_total", outcome="resolved") == 1
    assert value(after, "sarah_handoff_to_claim_seconds_count") == 1
    assert value(after, "sarah_handoff_to_resolution_seconds_count") == 1
    assert value(after, "sarah_unclaimed_cards") == 0 and value(after, "sarah_open_handoffs") == 0
    assert value(after, "sarah_stream_depth") == 0 and value(after, "sarah_pending_entries") == 0
    # question + press + "broken?" + "a person": each entry acknowledged once its pass was done
    assert value(after, "sarah_messages_answered_total") == 4
    assert value(after, "sarah_time_to_answer_seconds_count") >= 3
    # No label carries an id: every label value is from a small fixed set.
    ids = ("UCUSTOMER", CUSTOMER_DM, SUPPORT_CHANNEL, AGENT, root)
    assert not [key for key in after if any(i in v for i in ids for _, v in key[1])]


@pytest.mark.parametrize(
    "role, socket",
    [("worker", False), ("all", True)],
    ids=["worker-only", "socket-mode"],
)
async def test_every_role_serves_healthz_readyz_and_metrics_and_a_dead_worker_loop_turns_healthz_red(
    redis: Any, fake_slack: FakeSlack, fake_openai: FakeOpenAI, role: str, socket: bool
) -> None:
    slack: dict[str, Any] = {"slack_app_token": "xapp-test"} if socket else {}
    if socket:
        fake_slack.channel_members[SUPPORT_CHANNEL] = []
    settings = sarah_settings(fake_slack, fake_openai, slack={**slack, "sarah_port": 0}, worker={"sarah_role": role})
    sarah = Sarah(settings, REDIS_TEST_URL)
    await sarah.start()
    try:
        assert sarah.http_port is None and sarah.health_port  # no Slack HTTP server, but probes answer
        status, body = await get(sarah.health_port, "/healthz")
        assert status == 200 and json.loads(body)["redis"] == "ok"
        status, body = await get(sarah.health_port, "/readyz")
        assert status == 200
        assert json.loads(body).get("slack_identity") == ("resolved" if socket else None)
        status, text = await get(sarah.health_port, "/metrics")
        assert status == 200 and "sarah_stream_depth" in text

        worker = next(t for t in sarah.parts.health.loops if t.get_name() == "worker")
        worker.cancel()
        await asyncio.sleep(0.05)
        status, body = await get(sarah.health_port, "/healthz")
        assert status == 503
        status, _ = await get(sarah.health_port, "/readyz")
        assert status == 503
    finally:
        await sarah.stop()


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Sarah's own logging set-up at its most verbose (LOG_LEVEL=DEBUG, LOG_FORMAT=json), into a buffer."""
    out = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("DEBUG", "json", stream=out)
    root.handlers += [h for h in handlers if h not in root.handlers]  # keep pytest's capture
    yield out
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_json_logs_parse_carry_the_fields_and_never_the_customers_words(
    start_sarah: StartSarah, fake_slack: FakeSlack, json_log: io.StringIO
) -> None:
    secret_words = "my door code is 48151623 and my hub is called Zebra Moonlight"
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm(secret_words, ts=root))
    await fake_slack.wait_for(lambda: answers(fake_slack, root))
    await slack.event(dm("I want to talk to a real person", thread_ts=root))
    await fake_slack.wait_for(lambda: cards(fake_slack))
    await asyncio.sleep(0.2)

    lines = [line for line in json_log.getvalue().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert entries and all({"time", "level", "logger", "message"} <= e.keys() for e in entries)
    queued = [e for e in entries if e["message"] == "message queued"]
    assert queued and all(e["thread_key"] and isinstance(e["chars"], int) for e in queued)
    assert any(e["message"] == "thread handed to support" and e["reason"] == "customer_asked" for e in entries)
    text = json_log.getvalue()
    for fragment in ("48151623", "Zebra Moonlight", "real person", "xoxb-test-token", "sk-test-key"):
        assert fragment not in text


async def test_app_home_shows_support_the_live_queue_and_everyone_else_how_to_reach_a_person(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Any
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    _, slack = await start_sarah()

    async def open_home(user: str) -> None:
        event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
        assert await slack.event(event) == 200

    await open_home(AGENT)
    empty = await fake_slack.wait_for(lambda: fake_slack.home_views.get(AGENT))
    assert "Nothing waiting" in json.dumps(empty)
    await open_home("UCUSTOMER")
    visitor = json.dumps(await fake_slack.wait_for(lambda: fake_slack.home_views.get("UCUSTOMER")))
    assert "/sarah human" in visitor and "Support queue" not in visitor

    root, card = await escalated_dm(slack, fake_slack)  # the open tab follows without being reopened

    def queue_text() -> str:
        return json.dumps(fake_slack.home_views.get(AGENT, {}))

    # the tab is published when the hand-off opens and again once its card is posted (with the link)
    await fake_slack.wait_for(lambda: "Waiting" in queue_text() and "/archives/" in queue_text())
    assert "<@UCUSTOMER>" in queue_text()
    view = fake_slack.home_views[AGENT]
    section = next(b for b in view["blocks"] if b["type"] == "section" and "fields" in b)
    fields = " ".join(f["text"] for f in section["fields"])
    assert "The customer asked for a person" in fields and "a DM" in fields
    assert (
        section["accessory"]["url"]
        == f"https://zennest.slack.com/archives/{SUPPORT_CHANNEL}/p{card.ts.replace('.', '')}"
    )
    assert "talk to a real person" not in queue_text()  # what the customer wrote stays in Slack
    for key in await redis.keys("sarah:{h*"):  # the queue and the tab's viewers expire like the threads
        assert await redis.ttl(key) > 0, key

    await press(slack, fake_slack, "sarah_claim", card)
    await fake_slack.wait_for(lambda: "Claimed* by <@UAGENT>" in queue_text())
    await said(fake_slack, CUSTOMER_DM, root, "has joined")
    await press(slack, fake_slack, "sarah_resolve", card)
    await fake_slack.wait_for(lambda: "Nothing waiting" in queue_text())
    assert "UCUSTOMER" in fake_slack.home_views and len(fake_slack.calls_to("views.publish")) >= 4


def test_the_fake_refuses_a_view_slack_would_refuse() -> None:
    from sarah_testing.slack_api import block_kit_problems

    too_many = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    long_header = {"type": "home", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]}
    odd = {"type": "home", "blocks": [{"type": "table"}]}
    assert all(block_kit_problems(v) for v in (too_many, long_header, odd))


async def test_app_home_follows_a_hand_off_made_by_a_worker_only_process(
    redis: Any, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    from sarah_testing.slack_payloads import SlackSender

    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    ingress = Sarah(sarah_settings(fake_slack, fake_openai, worker={"sarah_role": "ingress"}), REDIS_TEST_URL)
    worker = Sarah(sarah_settings(fake_slack, fake_openai, worker={"sarah_role": "worker"}), REDIS_TEST_URL)
    await ingress.start()
    await worker.start()
    slack = SlackSender(f"http://127.0.0.1:{ingress.http_port}/slack/events")
    try:
        event = {"type": "app_home_opened", "user": AGENT, "channel": "D0HOME", "tab": "home"}
        assert await slack.event(event) == 200
        await fake_slack.wait_for(lambda: "Nothing waiting" in json.dumps(fake_slack.home_views.get(AGENT, {})))
        await slack.event(dm("I want to talk to a real person", ts=new_ts()))
        card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
        link = f"https://zennest.slack.com/archives/{SUPPORT_CHANNEL}/p{card.ts.replace('.', '')}"
        await fake_slack.wait_for(lambda: link in json.dumps(fake_slack.home_views.get(AGENT, {})))
    finally:
        await slack.close()
        await worker.stop()
        await ingress.stop()


async def test_a_dead_lettered_message_is_counted(
    start_sarah: StartSarah, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    sarah, slack = await start_sarah(slack={"sarah_health_port": 0}, worker={"dead_letter_after_passes": 2})

    async def broken(*args: Any) -> Any:
        raise RuntimeError("a bug in the pass")

    monkeypatch.setattr(sarah.parts.pipeline, "_ask_model", broken)
    ts = new_ts()
    await slack.event(dm("my ZenLock is offline", ts=ts))
    await fake_slack.wait_for(lambda: fake_slack.thread(CUSTOMER_DM, ts) and sarah.parts.dead_letters)
    samples: Samples = {}
    for _ in range(100):
        samples = await scrape(sarah)
        if value(samples, "sarah_messages_dead_lettered_total"):
            break
        await asyncio.sleep(0.05)
    assert value(samples, "sarah_messages_dead_lettered_total") == 1
    assert value(samples, "sarah_messages_answered_total") == 0  # set aside, not answered

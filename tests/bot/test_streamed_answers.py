"""Sarah in Slack while she writes: the native loading status, answers streamed as the model writes
them (chat.startStream / appendStream / stopStream) and Slack's own feedback buttons, over HTTP.

Every promise of the one-message path holds while streaming: one visible answer (also across a
kill -9 mid-stream), the owner checked before and during the stream, claims checked before a
sentence is shown, and a fallback to one message whenever Slack or the budget says no.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.cards import FEEDBACK
from bot.slack.stream import STREAM_MAX_AGE_SECONDS, SlackStreams
from handlers.messages import ThreadRef
from handlers.store.stream_budget import StreamBudget
from sarah_testing.handoff_steps import AGENT, CUSTOMER_DM, cards, press, said
from sarah_testing.openai_chat import FakeOpenAI, HttpError, Streamed, ToolCall
from sarah_testing.slack_api import TEAM_ID, FakeSlack, Posted
from sarah_testing.slack_payloads import SIGNING_SECRET, channel_message, dm, mention, new_ts
from tests.conftest import REDIS_TEST_URL, SUPPORT_CHANNEL, StartSarah

ROOT = Path(__file__).parents[2]
# Each sentence is long enough (≥ 256 characters, handlers/streaming.py) to be shown on its own.
S1 = (
    "First, unplug your ZenHub from the wall socket and count slowly to ten before you plug it back in again, "
    "because the hub needs a few seconds without power to clear its radio, and a quick unplug-and-replug often "
    "leaves it exactly where it was before, still blinking red at you from the shelf. "
)
S2 = (
    "Then open the ZenNest app, choose Devices, pick the hub and wait until its light turns a steady white, "
    "which can take up to two minutes while it looks for your network, downloads any update it missed and "
    "checks in with every sensor in your home one after the other, so please be patient. "
)
S3 = (
    "If the light stays red after two minutes, check the network cable between the hub and your router, "
    "try another port on the router, and make sure the router itself is online by opening a web page on your "
    "phone with its mobile data turned off, which tells us whether the problem is the hub. "
)
ANSWER = (S1 + S2 + S3).strip()
STOPPED = "someone from our support team is taking over"


def gated(*parts: Any) -> tuple[asyncio.Event, Any]:
    """A responder that streams `parts` on its first call (an Event in them waits for the test) and
    answers the plain ANSWER afterwards; and the event that lets the first call go on."""
    gate = asyncio.Event()
    calls: list[int] = []

    def responder(request: dict[str, Any]) -> Any:
        calls.append(1)
        if len(calls) == 1:
            return Streamed(tuple(gate if p is None else p for p in parts))
        return Streamed((S1, S2, S3))

    return gate, responder


def sarahs(fake_slack: FakeSlack, channel: str, root: str) -> list[Posted]:
    return fake_slack.thread(channel, root)


def shown_in_stream(fake_slack: FakeSlack) -> str:
    """Everything Sarah ever sent through the stream methods (what a customer may have seen)."""
    calls = [p for name, p in fake_slack.calls if name.startswith("chat.") and "Stream" in name]
    return json.dumps(calls)


async def finished(fake_slack: FakeSlack, channel: str, root: str, fragment: str) -> Posted:
    """The first of Sarah's messages in the thread that shows `fragment` and is no longer streaming."""
    found = await fake_slack.wait_for(
        lambda: [m for m in sarahs(fake_slack, channel, root) if fragment in m.body and not m.streaming]
    )
    return found[0]  # type: ignore[no-any-return]


# -- the happy path ------------------------------------------------------------------------------------


async def test_a_long_answer_streams_sentence_by_sentence_under_the_loading_status_and_ends_with_feedback(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    gate, fake_openai.responder = gated(S1, None, S2, S3)
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=root))

    partial = (await fake_slack.wait_for(lambda: fake_slack.streamed_messages()))[0]
    await fake_slack.wait_for(lambda: S1.strip() in partial.body)
    assert partial.streaming and S2.strip() not in partial.body  # the customer reads the first sentence already
    [status] = fake_slack.statuses  # Slack's own "is typing…" with ZenNest lines, no placeholder message
    assert status["status"] == "is typing…" and "Checking the ZenNest guides…" in status["loading_messages"]
    state = await redis.hgetall(f"sarah:{{{CUSTOMER_DM}:{root}}}:state")
    assert state[b"placeholder"] == state[b"stream_ts"] == partial.ts.encode()  # recorded while it streams
    gate.set()

    answer = await finished(fake_slack, CUSTOMER_DM, root, S3.strip())
    assert answer is partial and answer.body == ANSWER
    assert fake_slack.buttons(answer) == [FEEDBACK]  # Slack's native 👍 / 👎 in context_actions
    assert answer.metadata and answer.metadata["event_type"] == "sarah_reply"
    assert [m.ts for m in sarahs(fake_slack, CUSTOMER_DM, root)] == [answer.ts]  # one message, nothing else
    assert fake_slack.calls_to("chat.postMessage") == [] and len(fake_slack.calls_to("chat.appendStream")) >= 2


async def test_a_short_answer_is_one_message_and_spends_no_stream(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("hi", ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "Answering: hi")
    assert fake_slack.calls_to("chat.startStream") == []


async def test_in_a_channel_the_stream_names_its_recipient(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Streamed((S1, S2, S3))
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(mention("my hub is red", ts=root, user="UASKER"))
    await finished(fake_slack, "C0GENERAL", root, S3.strip())
    [start] = fake_slack.calls_to("chat.startStream")
    assert start["recipient_user_id"] == "UASKER" and start["recipient_team_id"] == TEAM_ID


async def test_where_slack_refuses_feedback_buttons_the_older_buttons_are_used(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Streamed((S1, S2, S3))
    fake_slack.refuse_blocks = {"context_actions"}
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=root))
    answer = await finished(fake_slack, CUSTOMER_DM, root, S3.strip())
    assert fake_slack.buttons(answer) == ["sarah_helped", "sarah_not_helped"]


async def test_a_native_feedback_press_counts_only_for_the_customer(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Streamed((S1, S2, S3))
    _, slack = await start_sarah(handoff={"handoff_after_failures": 1})
    root = new_ts()
    await slack.event(mention("my hub is red", ts=root))
    answer = await finished(fake_slack, "C0GENERAL", root, S3.strip())
    await press(slack, fake_slack, "sarah_not_helped", answer, user="UBYSTANDER", channel="C0GENERAL")
    refusal = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))
    assert "Only the person who asked" in refusal[0]["text"]
    await asyncio.sleep(0.3)
    assert cards(fake_slack) == []
    await press(slack, fake_slack, "sarah_not_helped", answer, user="UCUSTOMER", channel="C0GENERAL")
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]  # "didn't help" is a failure: a person
    assert "Sarah's steps did not work" in card.body


# -- the stream stops the moment people take the thread ------------------------------------------------


async def test_a_hand_off_asked_mid_stream_stops_it_with_a_closing_line(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    gate, fake_openai.responder = gated(S1, None, S2, S3)
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=root))
    partial = (await fake_slack.wait_for(lambda: fake_slack.streamed_messages()))[0]
    await slack.event(dm("I want to talk to a real person", thread_ts=root))
    await asyncio.sleep(0.2)  # queued behind the answer being written
    gate.set()

    await said(fake_slack, CUSTOMER_DM, root, "handing this conversation to our support team")
    await fake_slack.wait_for(lambda: cards(fake_slack))
    assert not partial.streaming and STOPPED in partial.body and S2.strip() not in partial.body
    assert S2.strip() not in shown_in_stream(fake_slack)


async def test_an_agents_line_mid_stream_stops_it_and_sarah_stays_out(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    gate, fake_openai.responder = gated(S1, None, S2, S3)
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(mention("my hub is red", ts=root))
    partial = (await fake_slack.wait_for(lambda: fake_slack.streamed_messages()))[0]
    await slack.event(channel_message("I'll take this one, I can see the hub's logs.", thread_ts=root, user=AGENT))
    await asyncio.sleep(0.2)
    gate.set()

    await fake_slack.wait_for(lambda: not partial.streaming and STOPPED in partial.body)
    await asyncio.sleep(0.5)  # a second answer, were there one, would be out by now
    assert S2.strip() not in shown_in_stream(fake_slack)
    assert [m for m in sarahs(fake_slack, "C0GENERAL", root) if S1.strip() in m.body] == [partial]
    assert len(fake_openai.requests) == 1


# -- claims and hand-offs decided by the model ---------------------------------------------------------


async def test_a_claimed_action_is_never_shown_and_the_message_becomes_the_honest_line(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    claim = "Good news: I've reset your hub remotely, so it should work again now. "
    gate, fake_openai.responder = gated(S1, None, claim, S3)
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=root))
    partial = (await fake_slack.wait_for(lambda: fake_slack.streamed_messages()))[0]
    gate.set()

    answer = await finished(fake_slack, CUSTOMER_DM, root, "I can't see or change your devices")
    assert answer is partial and S1.strip() not in answer.body  # replaced, as the one-message path would
    assert "reset your hub" not in shown_in_stream(fake_slack)
    assert len(sarahs(fake_slack, CUSTOMER_DM, root)) == 1


async def test_a_hand_off_tool_call_after_some_text_ends_the_stream_honestly(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Streamed((S1, S2, ToolCall("needs_staff_access")))
    _, slack = await start_sarah(handoff={"handoff_after_failures": 1})
    root = new_ts()
    await slack.event(dm("please refund my last order", ts=root))
    await fake_slack.wait_for(lambda: cards(fake_slack))
    answer = await finished(fake_slack, CUSTOMER_DM, root, "handing this conversation to our support team")
    assert answer.streamed and S1.strip() not in answer.body  # the half answer became the hand-off notice
    assert len(sarahs(fake_slack, CUSTOMER_DM, root)) == 1


# -- fallbacks ------------------------------------------------------------------------------------------


async def test_a_429_from_chat_start_stream_falls_back_to_one_message_and_pauses_streaming(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Streamed((S1, S2, S3))
    fake_slack.rate_limit_method("chat.startStream", 1)
    _, slack = await start_sarah()
    first, second = new_ts(), new_ts()
    await slack.event(dm("my ZenHub light is red", ts=first))
    answer = await finished(fake_slack, CUSTOMER_DM, first, S3.strip())
    assert answer.body == ANSWER and not answer.streamed and fake_slack.buttons(answer) == [FEEDBACK]
    await slack.event(dm("and my ZenCam is offline", ts=second, channel="D0OTHER", user="UOTHER"))
    other = await finished(fake_slack, "D0OTHER", second, S3.strip())
    assert not other.streamed  # Slack's Retry-After (30 s) spent the budget: no second try meanwhile
    assert [name for name, _ in fake_slack.calls if "startStream" in name] == ["chat.startStream:429"]


async def test_the_budget_streams_at_most_its_share_and_answers_everyone(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Streamed((S1, S2, S3))
    _, slack = await start_sarah(slack={"stream_answers_per_minute": 2})
    roots = {f"D0CUST{i}": new_ts() for i in range(5)}
    for i, (channel, root) in enumerate(roots.items()):
        await slack.event(dm("my ZenHub light is red", ts=root, channel=channel, user=f"UCUST{i}"))
    answers = [await finished(fake_slack, channel, root, S3.strip()) for channel, root in roots.items()]
    assert [a.body for a in answers] == [ANSWER] * 5
    assert sum(a.streamed for a in answers) == 2
    assert not [name for name, _ in fake_slack.calls if name.endswith(":429")]


async def test_a_stream_slack_ended_on_its_own_is_replaced_by_the_whole_answer(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Streamed((S1, S2, S3))
    fake_slack.stream_max_age = 0.0  # every append answers message_not_in_streaming_state
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=root))
    answer = await finished(fake_slack, CUSTOMER_DM, root, S3.strip())
    assert answer.streamed and answer.body == ANSWER and fake_slack.buttons(answer) == [FEEDBACK]
    assert len(sarahs(fake_slack, CUSTOMER_DM, root)) == 1 and fake_slack.calls_to("chat.update")


async def test_an_answer_past_the_12000_character_cap_stops_streaming_and_is_split(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    paragraphs = [(f"Step {i}: " + "check the ZenHub cable and the router. " * 60).strip() for i in range(8)]
    fake_openai.responder = lambda request: Streamed(tuple(p + "\n\n" for p in paragraphs))
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("give me every step", ts=root))
    await fake_slack.wait_for(lambda: (m := sarahs(fake_slack, CUSTOMER_DM, root)) and fake_slack.buttons(m[-1]))
    messages = sarahs(fake_slack, CUSTOMER_DM, root)
    assert messages[0].streamed and not messages[0].streaming and len(messages) >= 2
    assert "\n\n".join(m.body for m in messages) == "\n\n".join(paragraphs)
    assert all(len(m.body) <= 12_000 for m in messages)


async def test_with_streaming_off_answers_are_one_message(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Streamed((S1, S2, S3))
    _, slack = await start_sarah(slack={"stream_answers": False})
    root = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=root))
    answer = await finished(fake_slack, CUSTOMER_DM, root, S3.strip())
    assert answer.body == ANSWER and not answer.streamed and fake_openai.requests[0].get("stream") is None


# -- kill -9 mid-stream ---------------------------------------------------------------------------------

_CHILD = """
import asyncio, json, sys
from bot.runtime import Sarah
from config import load_settings

async def main() -> None:
    sarah = Sarah(load_settings(None, **json.loads(sys.argv[1])), sys.argv[2])
    await sarah.start()
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_worker_killed_mid_stream_is_taken_over_and_the_customer_sees_one_answer(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    gate, fake_openai.responder = gated(S1, None, S2, S3)
    worker = {"thread_lease_seconds": 2, "reclaim_idle_seconds": 5, "coalesce_seconds": 0.05}
    _, slack = await start_sarah(worker={**worker, "sarah_role": "ingress"})
    groups = {
        "slack": {
            "slack_bot_token": "xoxb-test-token",
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": fake_slack.api_url,
        },
        "model": {
            "openai_api_key": "sk-test-key",
            "openai_base_url": fake_openai.base_url,
            "sarah_model": "ft:gpt-4.1-mini-2025-04-14:zennest::sarah1",
            "model_timeout_seconds": 5,
            "model_max_retries": 0,
        },
        "handoff": {"support_channel": SUPPORT_CHANNEL},
        "worker": {**worker, "sarah_role": "worker"},
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        json.dumps(groups),
        REDIS_TEST_URL,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert child.stdout is not None
        ready = await asyncio.wait_for(child.stdout.readline(), 30)
        assert ready.strip() == b"ready"
        root = new_ts()
        await slack.event(dm("my ZenHub light is red", ts=root))
        partial = (await fake_slack.wait_for(lambda: fake_slack.streamed_messages(), within=20))[0]
        await fake_slack.wait_for(lambda: S1.strip() in partial.body)
    finally:
        child.send_signal(signal.SIGKILL)  # kill -9: no clean-up of any kind
        await asyncio.wait_for(child.wait(), 10)
    gate.set()  # the dead worker's model call ends; nobody reads it any more

    await start_sarah(worker={**worker, "sarah_role": "worker"})  # takes the thread over after the lease lapses
    answer = await finished(fake_slack, CUSTOMER_DM, root, S3.strip())
    assert answer is partial and answer.body == ANSWER  # the stream was finished in place, not posted twice
    await asyncio.sleep(0.5)
    assert [m.ts for m in sarahs(fake_slack, CUSTOMER_DM, root)] == [partial.ts]
    assert fake_slack.buttons(answer) and len(fake_openai.requests) == 2
    on_it = [name for name, params in fake_slack.calls if params.get("ts") == partial.ts]
    assert on_it.index("chat.stopStream") < on_it.index("chat.update")  # the open stream is ended, then edited


# -- redrafts and escaping -------------------------------------------------------------------------------


async def test_a_message_before_anything_is_shown_redrafts_and_one_answer_covers_both(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    gate, fake_openai.responder = gated(None, S1, S2, S3)
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=root))
    await fake_slack.wait_for(lambda: fake_slack.statuses)
    await slack.event(dm("and it blinks fast", thread_ts=root))
    await asyncio.sleep(0.2)
    gate.set()

    answer = await finished(fake_slack, CUSTOMER_DM, root, S3.strip())
    await asyncio.sleep(0.3)
    assert [m.ts for m in sarahs(fake_slack, CUSTOMER_DM, root)] == [answer.ts]
    assert len(fake_slack.calls_to("chat.startStream")) == 1  # the overtaken draft never started a stream
    assert user_texts(fake_openai.requests[-1]) == ["my ZenHub light is red", "and it blinks fast"]


async def test_a_message_while_an_answer_is_shown_gets_its_own_answer_after_it(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    gate, fake_openai.responder = gated(S1, None, S2, S3)
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=root))
    partial = (await fake_slack.wait_for(lambda: fake_slack.streamed_messages()))[0]
    await slack.event(dm("and it blinks fast", thread_ts=root))
    await asyncio.sleep(0.2)
    gate.set()

    await fake_slack.wait_for(lambda: len([m for m in sarahs(fake_slack, CUSTOMER_DM, root) if not m.streaming]) == 2)
    first, second = sarahs(fake_slack, CUSTOMER_DM, root)
    assert first is partial and first.body == ANSWER and second.body == ANSWER  # two whole answers, in order
    assert user_texts(fake_openai.requests[-1])[-1] == "and it blinks fast"


async def test_mentions_and_links_split_across_the_models_pieces_never_go_out_live(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    pieces = (
        S1,
        "Tell <!ch",
        "annel> and <@U0C",
        "EO> nothing; see [the guide](https://help.zen",
        "nest.com/hub) or [this](https://evil.exa",
        "mple/x) & <https://evil.example/a|the console>. ",
        S3,
    )
    fake_openai.responder = lambda request: Streamed(pieces)
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=root))
    answer = await finished(fake_slack, CUSTOMER_DM, root, S3.strip())
    sent = [p.get("markdown_text", "") for name, p in fake_slack.calls if name.startswith("chat.") and "Stream" in name]
    assert not [t for t in sent if "<" in t or "](https://evil" in t]  # nothing live but the allowed link
    assert "@\u2060channel" in answer.body and "@\u2060U0CEO" in answer.body and "&amp;" in answer.body
    assert "[the guide](https://help.zennest.com/hub)" in answer.body
    assert "(`https://evil.example/x`)" in answer.body and "the console (`https://evil.example/a`)" in answer.body


def user_texts(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "user"]


# -- the loading status, and a stream Sarah herself finds too old ---------------------------------------


async def test_where_the_loading_status_is_refused_the_placeholder_comes_and_the_status_is_not_asked_again(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Streamed((S1, S2, S3))
    fake_slack.refuse_status = "missing_scope"
    _, slack = await start_sarah()
    first, second = new_ts(), new_ts()
    await slack.event(dm("my ZenHub light is red", ts=first))
    answer = await finished(fake_slack, CUSTOMER_DM, first, S3.strip())
    assert answer.updates == 1 and not answer.streamed  # the "typing…" placeholder, replaced by the answer
    await slack.event(dm("and my ZenCam?", ts=second, channel="D0OTHER", user="UOTHER"))
    await finished(fake_slack, "D0OTHER", second, S3.strip())
    assert [name for name, _ in fake_slack.calls].count("assistant.threads.setStatus") == 1


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_stream_older_than_slacks_limit_is_not_appended_to_but_replaced(
    fake_slack: FakeSlack, redis: Redis
) -> None:
    clock = Clock()
    client = AsyncWebClient(token="xoxb-test-token", base_url=fake_slack.api_url)
    streams = SlackStreams(client, StreamBudget(redis, per_minute=8), workspace=TEAM_ID, clock=clock)
    stream = await streams.start_stream(ThreadRef(CUSTOMER_DM, "1.000001"), recipient_user="", recipient_team="")
    assert stream is not None and await stream.append(S1)
    clock.now += STREAM_MAX_AGE_SECONDS + 1  # Slack ends a stream left alone for about 5 minutes
    assert not await stream.append(S1 + S2)
    assert not await stream.finish(S1 + S2 + S3, feedback=True, tag="t")  # the caller replaces the message
    [message] = fake_slack.streamed_messages()
    assert not message.streaming and S2.strip() not in message.body
    assert len(fake_slack.calls_to("chat.appendStream")) == 1


async def test_a_model_server_that_refuses_streaming_is_asked_the_ordinary_way(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: (
        HttpError(400, "unsupported_parameter") if request.get("stream") else Streamed((S1, S2, S3))
    )
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=root))
    answer = await finished(fake_slack, CUSTOMER_DM, root, S3.strip())
    assert answer.body == ANSWER and not answer.streamed
    assert [bool(r.get("stream")) for r in fake_openai.requests] == [True, False]


async def test_a_rate_limited_loading_status_does_not_hold_the_answer(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    """Slack answers the status 429 with Retry-After: 30; the answer comes after at most the
    status's short wait (STATUS_WAIT_SECONDS), not half a minute later."""
    fake_slack.rate_limit_method("assistant.threads.setStatus", 1, retry_after=30)
    _, slack = await start_sarah(slack={"stream_answers": False})
    ts = new_ts()
    started = asyncio.get_running_loop().time()
    await slack.event(dm("my ZenHub light is red", ts=ts))
    await fake_slack.wait_for(lambda: fake_slack.thread(CUSTOMER_DM, ts), within=6.0)
    assert asyncio.get_running_loop().time() - started < 5.0
    assert [m.body for m in fake_slack.thread(CUSTOMER_DM, ts)] == ["Answering: my ZenHub light is red"]

"""A pass that dies between posting in Slack and recording it in Redis leaves exactly one answer.

The crash is simulated where it hurts most: right after Slack accepted the message and before
Sarah recorded its id. The worker then tries the pass again, as the next holder of the lease would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from bot.slack.outbox import SlackOutbox
from handlers.messages import ThreadRef
from handlers.outbox import PartsRecorder
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import dm, new_ts
from tests.conftest import StartSarah, with_and_without_pause


@pytest.fixture(params=[0.05, 0.0], ids=["pause", "no-pause"])
def start_sarah(start_sarah: StartSarah, request: pytest.FixtureRequest) -> StartSarah:
    """Every test here runs with and without the coalescing pause (see `with_and_without_pause`)."""
    return with_and_without_pause(start_sarah, request)


class Crash(RuntimeError):
    """The process "dies" here: nothing after this line of the pass runs."""


async def test_a_crash_after_posting_the_placeholder_leaves_no_typing_for_ever(
    start_sarah: StartSarah, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    thinking = SlackOutbox.thinking
    crashed: list[str] = []

    async def post_then_crash(self: SlackOutbox, thread: ThreadRef, *, tag: str = "") -> str | None:
        ts = await thinking(self, thread, tag=tag)
        if not crashed:
            crashed.append(str(ts))
            raise Crash("after chat.postMessage, before Redis recorded the placeholder")
        return ts

    monkeypatch.setattr(SlackOutbox, "thinking", post_then_crash)
    fake_slack.refuse_status = "missing_scope"  # the placeholder message, not Slack's loading status
    _, slack = await start_sarah()
    ts = new_ts()
    await slack.event(dm("how do I pair a ZenSense?", ts=ts))
    await fake_slack.wait_for(lambda: any("Answering" in m.body for m in fake_slack.thread("D0CUSTOMER", ts)))
    await asyncio.sleep(0.5)  # a second placeholder or answer, were there one, would be posted by now

    assert [m.body for m in fake_slack.thread("D0CUSTOMER", ts)] == ["Answering: how do I pair a ZenSense?"]
    assert fake_slack.thread("D0CUSTOMER", ts)[0].ts == crashed[0]  # the orphan placeholder became the answer


async def test_a_split_answer_retried_after_a_crash_does_not_post_piece_two_twice(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    paragraphs = [(f"Step {i}: " + "check the ZenHub cable and the router. " * 60).strip() for i in range(12)]
    fake_openai.responder = lambda request: "\n\n".join(paragraphs)
    send = SlackOutbox.send
    crashed: list[bool] = []

    async def crash_after_piece_two(
        self: SlackOutbox,
        thread: ThreadRef,
        text: str,
        *,
        parts: Sequence[str] = (),
        on_part: PartsRecorder | None = None,
        **kwargs: Any,
    ) -> str | None:
        async def record(ids: list[str]) -> None:
            if len(ids) == 2 and not crashed:
                crashed.append(True)
                raise Crash("after piece 2 was posted, before Redis recorded it")
            if on_part is not None:
                await on_part(ids)

        return await send(self, thread, text, parts=parts, on_part=record, **kwargs)

    monkeypatch.setattr(SlackOutbox, "send", crash_after_piece_two)
    _, slack = await start_sarah()
    ts = new_ts()
    await slack.event(dm("give me every step", ts=ts))
    await fake_slack.wait_for(lambda: crashed and len(fake_openai.requests) == 2)
    await fake_slack.wait_for(lambda: fake_slack.buttons(fake_slack.thread("D0CUSTOMER", ts)[-1]))
    await asyncio.sleep(0.5)

    bodies = [m.body for m in fake_slack.thread("D0CUSTOMER", ts)]
    assert "\n\n".join(bodies) == "\n\n".join(paragraphs)
    assert len(bodies) == len(set(bodies)) >= 3

"""One thread at a time, in order; quick messages answered together; a failing model never stops Sarah."""

from __future__ import annotations

import asyncio

import pytest

from sarah_testing.openai_chat import Delay, FakeOpenAI, HttpError, echo_responder, user_lines
from sarah_testing.server import eventually
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import dm, new_ts
from tests.conftest import StartSarah, with_and_without_pause


@pytest.fixture(params=[0.05, 0.0], ids=["pause", "no-pause"])
def start_sarah(start_sarah: StartSarah, request: pytest.FixtureRequest) -> StartSarah:
    """Every test here runs with and without the coalescing pause (see `with_and_without_pause`)."""
    return with_and_without_pause(start_sarah, request)


async def test_three_quick_messages_get_one_reply_that_answers_all_three_in_order(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Delay(0.3, echo_responder(request))
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenLock beeps", ts=root))
    await slack.event(dm("three times", thread_ts=root))
    await slack.event(dm("and then the light turns red", thread_ts=root))
    await fake_slack.wait_for(lambda: any("Answering" in m.body for m in fake_slack.thread("D0CUSTOMER", root)))
    await asyncio.sleep(1.0)  # a second reply, were there one, would be posted by now

    replies = [m.body for m in fake_slack.thread("D0CUSTOMER", root)]
    assert replies == ["Answering: my ZenLock beeps | three times | and then the light turns red"]


async def test_messages_of_one_thread_are_answered_one_at_a_time_in_order(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Delay(0.2, echo_responder(request))
    _, slack = await start_sarah(worker={"coalesce_seconds": 0, "max_redrafts": 0})
    root = new_ts()
    await slack.event(dm("one", ts=root))
    await eventually(lambda: fake_openai.requests)  # Sarah is drafting the answer to "one"
    await slack.event(dm("two", thread_ts=root))
    await fake_slack.wait_for(lambda: sum("Answering" in m.body for m in fake_slack.thread("D0CUSTOMER", root)) == 2)
    assert fake_openai.most_in_flight == 1
    assert [user_lines(r) for r in fake_openai.requests] == [["one"], ["one", "two"]]
    assert [m.body for m in fake_slack.thread("D0CUSTOMER", root)] == ["Answering: one", "Answering: one | two"]


async def test_a_model_error_gets_a_short_apology_and_the_worker_goes_on(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: (
        HttpError(500) if "break" in user_lines(request)[-1] else echo_responder(request)
    )
    _, slack = await start_sarah()
    broken, fine = new_ts(), new_ts()
    # two conversations (assistant threads): top-level DMs would be one conversation
    await slack.event(dm("please break", thread_ts=broken))
    apology = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread("D0CUSTOMER", broken) if "typing" not in m.body]
    )
    assert apology[0].body.startswith("Sorry, I couldn't reach my knowledge")
    assert len(apology[0].body) < 300

    await slack.event(dm("and now a normal question", thread_ts=fine))
    replies = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread("D0CUSTOMER", fine) if "typing" not in m.body]
    )
    assert replies[0].body == "Answering: and now a normal question"


async def test_a_model_that_times_out_gets_the_apology_too(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Delay(3, "too late")
    _, slack = await start_sarah(model={"model_timeout_seconds": 0.5})
    ts = new_ts()
    await slack.event(dm("hello?", ts=ts))
    replies = await fake_slack.wait_for(lambda: [m for m in fake_slack.thread("D0CUSTOMER", ts) if "Sorry" in m.body])
    assert "too late" not in replies[0].body


async def test_a_long_answer_is_split_into_several_messages_in_order(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    paragraphs = [(f"Step {i}: " + "check the ZenHub cable and the router. " * 60).strip() for i in range(12)]
    fake_openai.responder = lambda request: "\n\n".join(paragraphs)
    _, slack = await start_sarah()
    ts = new_ts()
    await slack.event(dm("give me every step", ts=ts))
    await fake_slack.wait_for(lambda: len(fake_slack.thread("D0CUSTOMER", ts)) >= 3)
    bodies = [m.body for m in fake_slack.thread("D0CUSTOMER", ts)]
    assert all(len(b) <= 12_000 for b in bodies)
    assert "\n\n".join(bodies) == "\n\n".join(paragraphs)


async def test_the_customer_sees_sarah_is_typing_until_the_answer_replaces_it(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Delay(0.5, "Here is how.")
    fake_slack.refuse_status = "missing_scope"  # no native loading status: the placeholder message
    _, slack = await start_sarah()
    ts = new_ts()
    await slack.event(dm("how do I add a ZenSense?", ts=ts))
    typing = await fake_slack.wait_for(lambda: fake_slack.thread("D0CUSTOMER", ts))
    assert "typing" in typing[0].body
    await fake_slack.wait_for(lambda: fake_slack.thread("D0CUSTOMER", ts)[0].body == "Here is how.")
    assert len(fake_slack.thread("D0CUSTOMER", ts)) == 1  # replaced in place, not a second message


async def test_a_slack_hiccup_delays_the_answer_but_loses_and_doubles_nothing(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    fake_slack.rate_limit_next(2)  # the next two Web API calls answer 429 with Retry-After: 1
    ts = new_ts()
    await slack.event(dm("is my ZenHub online?", ts=ts))
    replies = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread("D0CUSTOMER", ts) if "Answering" in m.body], within=15
    )
    await asyncio.sleep(0.5)
    assert [m.body for m in fake_slack.thread("D0CUSTOMER", ts)] == ["Answering: is my ZenHub online?"]
    assert len(replies) == 1 and len(fake_openai.requests) == 1


async def test_a_failing_pass_is_tried_again_without_waiting_for_a_reclaim(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah(slack={"slack_rate_limit_retries": 0})
    fake_slack.rate_limit_next(1)  # the placeholder post fails outright: the pass raises
    ts = new_ts()
    await slack.event(dm("hello after a hiccup", ts=ts))
    replies = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread("D0CUSTOMER", ts) if "Answering" in m.body], within=8
    )
    assert replies[0].body == "Answering: hello after a hiccup"

"""Requests for a person and "that didn't work" are caught in code, without false alarms."""

from __future__ import annotations

import pytest

from handlers.intents import says_it_did_not_work, wants_human


@pytest.mark.parametrize(
    "text",
    [
        "human",
        "Agent!",
        "real person please",
        "can I talk to someone?",
        "I want to speak to a human",
        "let me speak with support",
        "connect me to an agent",
        "/sarah human",
        "I need a representative",
        "this is useless, get me a real person",
        "Can I chat with a live agent",
        "human please",
    ],
)
def test_explicit_requests_for_a_person(text: str) -> None:
    assert wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "my ZenCam keeps saying human detected at night",
        "is the agent app the same as the ZenNest app?",
        "How many people can share my ZenNest home?",
        "the person detection zone is too small",
        "my thermostat shows E4",
        "",
    ],
)
def test_not_requests_for_a_person(text: str) -> None:
    assert not wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "that didn't work",
        "It still doesn't work",
        "tried that, still red",
        "no luck",
        "same problem as before",
        "did not help at all",
        "I tried everything but nothing changed",
        "it's still offline",
    ],
)
def test_reports_that_a_suggestion_failed(text: str) -> None:
    assert says_it_did_not_work(text)


@pytest.mark.parametrize("text", ["thanks, that worked!", "how do I pair a lock?", "it works now"])
def test_not_reports_of_failure(text: str) -> None:
    assert not says_it_did_not_work(text)

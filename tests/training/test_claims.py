"""The invented-action patterns the validator and the evaluation share."""

from __future__ import annotations

import pytest

from training.claims import find_claims


@pytest.mark.parametrize(
    "text",
    [
        "I've reset your ZenHub, it should work now.",
        "I have refunded the $9.99 charge.",
        "I’ve rebooted your camera remotely.",
        "I just unlocked the front door for you.",
        "I've checked your account and everything looks fine.",
        "I have updated your plan to Zen Plus.",
        "Your subscription has been cancelled.",
        "I can see your hub is offline.",
    ],
)
def test_claims_of_actions_sarah_cannot_take_are_found(text: str) -> None:
    assert find_claims(text)


@pytest.mark.parametrize(
    "text",
    [
        "I can't reset your hub myself, but you can: hold the button for 10 seconds.",
        "Once your hub has been reset, open the app and add it again.",
        "Have you restarted the ZenHub?",
        "If you reset it, the schedules are kept.",
        "I've passed this to our support team; someone will reply here.",
        "We changed the Zen Plus price in 2025.",
        "I never reset, check or change anything myself.",
    ],
)
def test_instructions_and_honest_limits_are_not_claims(text: str) -> None:
    assert find_claims(text) == []

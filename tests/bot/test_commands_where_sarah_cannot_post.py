"""A command Sarah cannot carry out where it was typed gets a clear answer, never Slack's "dispatch_failed"."""

from __future__ import annotations

import pytest

from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import slash_command
from tests.conftest import StartSarah


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        ("not_in_channel", "/invite @Sarah"),
        ("channel_not_found", "direct message"),
        ("is_archived", "archived"),
        ("restricted_action", "direct message"),
    ],
)
async def test_sarah_human_where_sarah_cannot_post_tells_the_person_what_to_do_instead(
    start_sarah: StartSarah, fake_slack: FakeSlack, error: str, advice: str
) -> None:
    _, slack = await start_sarah()
    fake_slack.refused_channels["C0ELSEWHERE"] = error
    human = slash_command("human", user="UCUSTOMER", channel="C0ELSEWHERE")
    status, _ = await slack.command(human)
    assert status == 200  # Slack shows the answer to the person instead of "dispatch_failed"
    answer = await fake_slack.answer_to(human)
    assert advice in answer and "handing you" not in answer
    assert not [m for m in fake_slack.messages if m.channel == "C0ELSEWHERE"]


async def test_after_sarah_is_invited_the_same_command_hands_the_person_over(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    _, slack = await start_sarah()
    fake_slack.refused_channels["C0ELSEWHERE"] = "not_in_channel"
    refused = slash_command("human", channel="C0ELSEWHERE")
    status, _ = await slack.command(refused)
    assert status == 200 and "/invite @Sarah" in await fake_slack.answer_to(refused)
    del fake_slack.refused_channels["C0ELSEWHERE"]
    human = slash_command("human", channel="C0ELSEWHERE")
    status, _ = await slack.command(human)
    assert status == 200 and "handing you to our support team" in await fake_slack.answer_to(human)

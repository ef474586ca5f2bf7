"""Who is from Sarah's own organisation: the pure rules behind the boundary and Slack Connect checks."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.boundaries import Home
from bot.slack.events import classify
from config import SettingsError, load_settings
from handlers.messages import InboundMessage
from sarah_testing.slack_api import BOT_USER_ID, TEAM_ID
from sarah_testing.slack_payloads import channel_message

HOME = Home(team_id=TEAM_ID, app_id="ASARAH")
GRID = Home(team_id=TEAM_ID, app_id="ASARAH", enterprise_id="EZEN")


@pytest.mark.parametrize(
    ("home", "sender_team", "shared", "external"),
    [
        (HOME, TEAM_ID, True, False),  # our own people in a shared channel
        (HOME, "TEXTERNAL", True, True),  # Slack Connect
        (HOME, None, True, True),  # no team in a shared channel: when in doubt, a customer
        (HOME, None, False, False),
        (GRID, "TSISTER", False, False),  # another workspace of the same org
        (GRID, "EZEN", True, False),  # user_team can be the org id
        (GRID, "TEXTERNAL", True, True),  # shared with another org
    ],
)
def test_who_counts_as_external(home: Home, sender_team: str | None, shared: bool, external: bool) -> None:
    assert home.is_external(sender_team, shared=shared) is external


def test_a_shared_channel_message_from_another_org_is_marked_external() -> None:
    event = channel_message("hi", thread_ts="1.000001", user="UEXT", user_team="TEXTERNAL")
    message = classify(event, BOT_USER_ID, home=HOME, shared=True)
    assert isinstance(message, InboundMessage) and message.external
    assert InboundMessage.from_json(message.to_json()).external  # survives the inbox stream


@pytest.mark.parametrize(
    ("body", "team", "org", "why"),
    [
        ({"api_app_id": "ASARAH"}, TEAM_ID, None, None),
        ({"api_app_id": "AOTHER"}, TEAM_ID, None, "another app"),
        ({"api_app_id": "ASARAH"}, "TOTHER", None, "another workspace"),
        ({"api_app_id": "ASARAH"}, "TSISTER", "EZEN", "another workspace"),  # no org known: not home
    ],
)
def test_why_a_request_is_foreign(body: dict[str, str], team: str, org: str | None, why: str | None) -> None:
    assert HOME.why_foreign(body, team, org) == why
    if org:
        assert GRID.why_foreign(body, team, org) is None


@pytest.mark.parametrize(
    ("group", "values", "variable"),
    [
        ("slack", {"slack_team_id": "zennest"}, "SLACK_TEAM_ID"),
        ("slack", {"slack_app_id": "T0123ABC"}, "SLACK_APP_ID"),
        ("limits", {"user_messages_per_minute": 0}, "USER_MESSAGES_PER_MINUTE"),
        ("handoff", {"handoff_max_reminders": -1}, "HANDOFF_MAX_REMINDERS"),
    ],
)
def test_a_wrong_boundary_or_limit_setting_names_its_variable(
    group: str, values: dict[str, Any], variable: str
) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(None, **{group: values})
    assert variable in str(error.value)

"""The test doubles never give two messages the same ts: a customer's message (`new_ts`) and one
the fake Slack stamps (Sarah's posts) can be made in the same second, in any order of the tests."""

from __future__ import annotations

from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import new_ts


def test_a_customers_message_and_one_slack_stamps_never_share_a_ts() -> None:
    slack = FakeSlack()
    stamped = {slack.add_message("D0CUSTOMER", "hi", user="UOTHER").ts for _ in range(2_000)}
    written = {new_ts() for _ in range(2_000)}
    assert len(stamped) == len(written) == 2_000
    assert not stamped & written

"""With SLACK_APP_TOKEN set, Sarah dials out over Socket Mode: no public URL, same answers."""

from __future__ import annotations

from tests.conftest import StartSarah
from tests.fakes.server import eventually
from tests.fakes.slack_api import FakeSlack
from tests.slack_payloads import dm, envelope, new_ts


async def test_a_dm_over_socket_mode_is_acknowledged_and_answered(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    sarah, _ = await start_sarah(slack={"slack_app_token": "xapp-test-token"})
    assert sarah.http_port is None  # nothing listens: Sarah connected out to Slack
    await eventually(lambda: fake_slack.sockets)
    ts = new_ts()
    envelope_id = await fake_slack.push(envelope(dm("hello over the socket", ts=ts)))
    await fake_slack.wait_for(lambda: envelope_id in fake_slack.socket_acks)
    replies = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread("D0CUSTOMER", ts) if "Answering" in m.body]
    )
    assert replies[0].body == "Answering: hello over the socket"

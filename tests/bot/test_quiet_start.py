"""What an admin reads when Sarah starts: nothing but what concerns them."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import StartSarah


async def test_a_start_with_the_bot_token_in_the_environment_logs_no_bolt_token_warning(
    start_sarah: StartSarah, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")  # as every real deployment sets it
    with caplog.at_level(logging.INFO):
        await start_sarah()
    assert not [r for r in caplog.records if "token` will be unused" in r.getMessage()]
    assert [r for r in caplog.records if r.name.startswith("bot.")], "Sarah's own start-up lines are still logged"

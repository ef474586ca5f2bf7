"""What an admin copies from the repo matches what Sarah reads and uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

from config.settings import SETTINGS_GROUPS
from config.training import TrainingSettings
from config.training_local import LocalTrainingSettings

ROOT = Path(__file__).parents[2]


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    groups = [*SETTINGS_GROUPS.values(), TrainingSettings, LocalTrainingSettings]  # the bot's, then `sarah train`'s
    settings = {name.upper() for group in groups for name in group.model_fields}
    assert listed == settings


def test_the_manifest_subscribes_to_exactly_what_sarah_handles() -> None:
    manifest = json.loads((ROOT / "deploy" / "slack-manifest.json").read_text())
    settings = manifest["settings"]
    assert sorted(settings["event_subscriptions"]["bot_events"]) == [
        "app_home_opened",  # the support team's queue in App Home; the Messages tab (suggested prompts)
        "app_mention",
        "assistant_thread_started",  # assistant threads on workspaces without the agent surface
        "message.channels",
        "message.groups",
        "message.im",
    ]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True  # Claim, Resolve, Hand back, Helped buttons
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/sarah"]
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read",
        "chat:write",
        "commands",
        "im:history",
        "channels:history",
        "groups:history",
        "users:read",  # agents' names on relayed lines
        "channels:read",
        "groups:read",  # the support channel's members (conversations.members)
        "usergroups:read",  # SUPPORT_USERGROUP's members
        "assistant:write",  # suggested prompts and thread titles
        "files:read",  # names and links of shared files, for the hand-off card
    }
    assert "agent_view" in manifest["features"]  # the agent messaging surface

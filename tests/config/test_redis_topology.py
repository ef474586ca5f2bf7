"""REDIS_CLUSTER and REDIS_SENTINELS: a wrong combination stops Sarah naming the variable to fix."""

from __future__ import annotations

import pytest

from bot.cli.redis_url import redis_url_for
from config import SettingsError, load_settings


def problems(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(None)
    return str(caught.value)


def test_a_cluster_needs_the_url_of_one_of_its_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "REDIS_CLUSTER: needs REDIS_URL" in problems(monkeypatch, REDIS_CLUSTER="true")
    assert "REDIS_CLUSTER: needs REDIS_URL" in problems(monkeypatch, REDIS_CLUSTER="true", REDIS_URL="unix:///r.sock")


def test_cluster_and_sentinels_cannot_be_combined(monkeypatch: pytest.MonkeyPatch) -> None:
    message = problems(
        monkeypatch, REDIS_CLUSTER="true", REDIS_URL="redis://10.0.0.5:7000", REDIS_SENTINELS="10.0.0.6:26379"
    )
    assert "REDIS_CLUSTER: cannot be combined with REDIS_SENTINELS" in message


@pytest.mark.parametrize("value", ["10.0.0.5", "10.0.0.5:port", "10.0.0.5:26379,:26380", "10.0.0.5:70000"])
def test_each_sentinel_must_be_host_and_port(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assert "REDIS_SENTINELS: must be host:port of each Sentinel" in problems(monkeypatch, REDIS_SENTINELS=value)


def test_with_sentinels_no_redis_url_is_needed_and_no_embedded_redis_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_SENTINELS", "10.0.0.5:26379, sentinel-2.internal:26380")
    monkeypatch.setenv("REDIS_SENTINEL_MASTER", "sarah")
    settings = load_settings(None)
    assert settings.redis.sentinel_addresses == [("10.0.0.5", 26379), ("sentinel-2.internal", 26380)]
    with redis_url_for(settings) as url:
        assert url == ""  # the Sentinels say where the master is

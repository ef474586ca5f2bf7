"""Training settings name the variable to fix; the new model id lands in `.env` without harming it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.errors import SettingsError
from config.training import load_training_settings
from training.cli import main
from training.envfile import set_env_value


def test_defaults_and_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    settings = load_training_settings(None)
    assert (settings.finetune_backend, settings.finetune_base_model, settings.finetune_epochs) == (
        "openai",
        "gpt-4.1-mini-2025-04-14",
        3,
    )
    assert (settings.finetune_suffix, settings.finetune_seed) == ("sarah", 42)
    assert "sk-secret-value" not in repr(settings)


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FINETUNE_BACKEND=Azure\nFINETUNE_EPOCHS=5\n")
    settings = load_training_settings(tmp_path / ".env")
    assert (settings.finetune_backend, settings.finetune_epochs) == ("azure", 5)


def test_every_bad_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINETUNE_BACKEND", "gcp")
    monkeypatch.setenv("FINETUNE_EPOCHS", "zero")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "my-resource.openai.azure.com")
    monkeypatch.setenv("POLL_SECONDS", "-1")
    with pytest.raises(SettingsError) as caught:
        load_training_settings(None)
    named = {line.split(":")[0] for line in caught.value.problems}
    assert named == {"FINETUNE_BACKEND", "FINETUNE_EPOCHS", "AZURE_OPENAI_ENDPOINT", "POLL_SECONDS"}


def test_the_cli_reports_bad_settings_and_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("FINETUNE_SUFFIX", "has spaces!")
    assert main(["finetune"]) == 2
    assert "FINETUNE_SUFFIX" in capsys.readouterr().err


def test_set_env_value_rewrites_one_line_and_keeps_the_rest(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("# comment\nexport SARAH_MODEL=old\nREDIS_URL=redis://x\nSARAH_MODEL=older\n")
    set_env_value(env, "SARAH_MODEL", "ft:gpt-4.1-mini-2025-04-14:zennest:sarah:abc")
    assert env.read_text() == (
        "# comment\nSARAH_MODEL=ft:gpt-4.1-mini-2025-04-14:zennest:sarah:abc\nREDIS_URL=redis://x\n"
    )


def test_set_env_value_creates_the_file_and_quotes_odd_values(tmp_path: Path) -> None:
    env = tmp_path / "sub" / ".env"
    set_env_value(env, "SARAH_MODEL", 'a b"c')
    assert env.read_text() == 'SARAH_MODEL="a b\\"c"\n'

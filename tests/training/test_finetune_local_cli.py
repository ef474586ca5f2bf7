"""`sarah train finetune --backend local` through the command: settings from the environment, one run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sarah_testing.tiny_model import build_tiny_model, conversation_records, write_jsonl
from training.cli import main

pytestmark = pytest.mark.local_training


def test_the_command_tunes_a_local_model_with_the_settings_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(name, "1")
    records = conversation_records(16)
    base = build_tiny_model(tmp_path / "tiny", records)
    train = write_jsonl(records[:12], tmp_path / "train.jsonl")
    valid = write_jsonl(records[12:], tmp_path / "valid.jsonl")
    for name, value in {
        "LOCAL_BASE_MODEL": str(base),
        "LOCAL_OUTPUT_DIR": str(tmp_path / "runs"),
        "LOCAL_DEVICE": "cpu",
        "LOCAL_MAX_LENGTH": "1024",
        "FINETUNE_EPOCHS": "1",
        "WANDB_PROJECT": "sarah-local-test",
    }.items():
        monkeypatch.setenv(name, value)

    code = main(
        [
            "finetune",
            "--backend",
            "local",
            "--train",
            str(train),
            "--valid",
            str(valid),
            "--env-file",
            str(tmp_path / ".env"),
            "--force-promote",  # the promotion gate has tests of its own
        ]
    )

    out = capsys.readouterr().out
    assert code == 0, out
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert f"Local fine-tune done: {run_dir}" in out
    assert (run_dir / "adapter" / "adapter_config.json").exists()
    assert (run_dir / "results.csv").exists() and (run_dir / "loss.png").exists()
    card = json.loads((run_dir / "model_card.json").read_text())
    assert card["base_model"] == str(base)
    assert card["hyperparameters"]["epochs"] == 1  # FINETUNE_EPOCHS reaches the local backend
    assert card["wandb_run_dir"]  # our own W&B run, as on the OpenAI path


def test_a_bad_local_setting_stops_the_command_naming_it(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("LOCAL_LORA_RANK", "0")
    assert main(["finetune", "--backend", "local"]) == 2
    assert "LOCAL_LORA_RANK" in capsys.readouterr().err


def test_every_flag_reaches_the_local_backend_and_the_bot_is_pointed_at_the_served_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(name, "1")
    records = conversation_records(16)
    base = build_tiny_model(tmp_path / "tiny", records)
    train = write_jsonl(records[:12], tmp_path / "train.jsonl")
    valid = write_jsonl(records[12:], tmp_path / "valid.jsonl")
    # the settings say otherwise: the flags must win
    for name, value in {
        "LOCAL_BASE_MODEL": "not/this-model",
        "LOCAL_OUTPUT_DIR": str(tmp_path / "not-here"),
        "LOCAL_EPOCHS": "3",
        "FINETUNE_SUFFIX": "sarah",
        "LOCAL_DEVICE": "cpu",
        "LOCAL_MAX_LENGTH": "1024",
    }.items():
        monkeypatch.setenv(name, value)
    env_file = tmp_path / ".env"
    env_file.write_text("SLACK_BOT_TOKEN=xoxb-1\nSARAH_MODEL=old\n")

    code = main(
        [
            "finetune",
            "--backend",
            "local",
            "--train",
            str(train),
            "--valid",
            str(valid),
            "--model",
            str(base),
            "--epochs",
            "1",
            "--out-dir",
            str(tmp_path / "runs"),
            "--suffix",
            "zen",
            "--env-file",
            str(env_file),
            "--force-promote",  # the promotion gate has tests of its own
        ]
    )

    out = capsys.readouterr().out
    assert code == 0, out
    assert not (tmp_path / "not-here").exists()
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.startswith("zen-")
    card = json.loads((run_dir / "model_card.json").read_text())
    assert card["base_model"] == str(base) and card["hyperparameters"]["epochs"] == 1
    assert card["served_name"] == "zen" and "--lora-modules zen=" in (run_dir / "model_card.md").read_text()
    assert env_file.read_text() == "SLACK_BOT_TOKEN=xoxb-1\nSARAH_MODEL=zen\n"
    assert "--lora-modules zen=" in out and "Recorded SARAH_MODEL=zen" in out
    wandb_run = Path(card["wandb_run_dir"])  # the W&B run lives in the run folder, not in ./wandb
    assert wandb_run.is_relative_to(run_dir) and wandb_run.name.endswith(run_dir.name)

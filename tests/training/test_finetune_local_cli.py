"""`sarah train finetune --backend local` through the command: settings from the environment, one run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.training.local_fixtures import build_tiny_model, conversation_records, write_jsonl
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
    for name, value in {"LOCAL_BASE_MODEL": str(base), "LOCAL_OUTPUT_DIR": str(tmp_path / "runs"),
                        "LOCAL_DEVICE": "cpu", "LOCAL_MAX_LENGTH": "1024", "FINETUNE_EPOCHS": "1",
                        "WANDB_PROJECT": "sarah-local-test"}.items():
        monkeypatch.setenv(name, value)

    code = main(["finetune", "--backend", "local", "--train", str(train), "--valid", str(valid),
                 "--env-file", str(tmp_path / ".env")])

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

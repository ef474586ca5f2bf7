"""Fixtures of the training tests: no machine setting leaks in, W&B stays offline in a temp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.training import TrainingSettings
from config.training_local import LocalTrainingSettings
from sarah_testing.openai_finetune_server import FakeFineTuningServer


@pytest.fixture(autouse=True)
def clean_training_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (*TrainingSettings.model_fields, *LocalTrainingSettings.model_fields):
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb-dir"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    (tmp_path / "wandb-dir").mkdir(exist_ok=True)


@pytest.fixture
def finetune_server() -> Iterator[FakeFineTuningServer]:
    with FakeFineTuningServer() as server:
        yield server

"""`sarah train finetune --backend azure` against the fake Azure OpenAI paths (api-version in the query)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sarah_testing.openai_finetune_server import API_KEY, FINAL_LOSSES, FakeFineTuningServer
from tests.training.conftest import dataset, write_lines
from training.cli import build_parser
from training.finetune import run_finetune

API_VERSION = "2025-02-01-preview"


def _args(tmp_path: Path, *extra: str) -> Any:
    examples = dataset(3)
    train = write_lines(tmp_path / "train.jsonl", examples[:16])
    valid = write_lines(tmp_path / "valid.jsonl", examples[16:])
    return build_parser().parse_args(
        [
            "finetune",
            "--backend",
            "azure",
            "--train",
            str(train),
            "--valid",
            str(valid),
            "--out-dir",
            str(tmp_path / "runs"),
            "--env-file",
            str(tmp_path / ".env"),
            *extra,
        ]
    )


def _use_azure(server: FakeFineTuningServer, monkeypatch: pytest.MonkeyPatch, key: str = API_KEY) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.azure_endpoint)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", key)
    monkeypatch.setenv("AZURE_OPENAI_API_VERSION", API_VERSION)
    monkeypatch.setenv("POLL_SECONDS", "0.01")
    monkeypatch.setenv("WANDB_PROJECT", "sarah-azure")


def test_azure_flow_uses_azure_paths_and_ends_with_the_deployment_to_use(
    tmp_path: Path, finetune_server: FakeFineTuningServer, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _use_azure(finetune_server, monkeypatch)
    assert run_finetune(_args(tmp_path)) == 0
    out = capsys.readouterr().out

    assert finetune_server.requests, "the server saw no request"
    assert all(path.startswith("/openai/") for _, path, _ in finetune_server.requests)
    assert all(query.get("api-version") == API_VERSION for _, _, query in finetune_server.requests)
    (job,) = finetune_server.jobs.values()
    assert job.azure and "integrations" not in job.params
    for file_id in (job.params["training_file"], job.params["validation_file"]):
        lines = [json.loads(x) for x in finetune_server.files[file_id].content.decode().splitlines()]
        assert all("objective" not in x for x in lines)

    assert f"Full validation loss:      {FINAL_LOSSES[2]:.4f}" in out
    deployment = [line for line in out.splitlines() if line.startswith("Deployment name for the bot: ")]
    assert deployment == ["Deployment name for the bot: sarah-sarah-0003"]
    assert f"OPENAI_BASE_URL={finetune_server.azure_endpoint}/openai/v1/" in out
    assert "SARAH_MODEL=sarah-sarah-0003" in out
    assert job.fine_tuned_model in out
    assert (tmp_path / "runs" / job.id / "loss.png").exists()


def test_azure_without_endpoint_names_the_missing_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    assert run_finetune(_args(tmp_path)) == 2
    assert capsys.readouterr().err.strip() == (
        "AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY must be set for --backend azure."
    )


def test_azure_wrong_key_names_the_azure_variable(
    tmp_path: Path, finetune_server: FakeFineTuningServer, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _use_azure(finetune_server, monkeypatch, key="0123456789abcdef0123456789abcdef")
    assert run_finetune(_args(tmp_path)) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == "The API refused the key: check AZURE_OPENAI_API_KEY."
    assert "0123456789abcdef" not in captured.out + captured.err

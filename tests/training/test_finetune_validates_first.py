"""`sarah train finetune` checks the data as `sarah train validate` does, before anything is uploaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sarah_testing.openai_finetune_server import API_KEY, FakeFineTuningServer
from tests.training.conftest import dataset, write_lines
from training.cli import build_parser, main
from training.finetune import run_finetune
from training.validate import validate_files

ENV_BEFORE = "SARAH_MODEL=ft:gpt-4.1-mini-2025-04-14:zennest::current\n"


def _claiming_refund(examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The data with one answer that claims an action Sarah cannot take: `validate` rejects it."""
    broken = json.loads(json.dumps(examples))
    broken[3]["messages"][-1] = {"role": "assistant", "content": "Done: I have refunded your order."}
    return broken


def _args(tmp_path: Path, train: Path, valid: Path, backend: str) -> Any:
    return build_parser().parse_args(
        [
            "finetune",
            "--backend",
            backend,
            "--train",
            str(train),
            "--valid",
            str(valid),
            "--out-dir",
            str(tmp_path / "runs"),
            "--env-file",
            str(tmp_path / ".env"),
        ]
    )


def _use(server: FakeFineTuningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.azure_endpoint)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("POLL_SECONDS", "0.01")


@pytest.mark.parametrize("backend", ["openai", "azure", "local"])
def test_a_file_validate_rejects_never_reaches_the_api_and_the_bot_keeps_its_model(
    tmp_path: Path, finetune_server: FakeFineTuningServer, monkeypatch: pytest.MonkeyPatch, capsys: Any, backend: str
) -> None:
    _use(finetune_server, monkeypatch)
    (tmp_path / ".env").write_text(ENV_BEFORE)
    examples = _claiming_refund(dataset(3))
    train = write_lines(tmp_path / "train.jsonl", examples[:16])
    valid = write_lines(tmp_path / "valid.jsonl", examples[16:])

    assert run_finetune(_args(tmp_path, train, valid, backend)) == 1

    err = capsys.readouterr().err
    assert f"{train}:4" in err and "action_claim" in err and "sarah train validate" in err
    assert finetune_server.files == {} and finetune_server.jobs == {}
    assert (tmp_path / ".env").read_text() == ENV_BEFORE
    assert not (tmp_path / "runs").exists()


def test_an_empty_validation_file_stops_the_tuning_before_any_upload(
    tmp_path: Path, finetune_server: FakeFineTuningServer, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _use(finetune_server, monkeypatch)
    train = write_lines(tmp_path / "train.jsonl", dataset(3)[:16])
    valid = tmp_path / "valid.jsonl"
    valid.write_text("")

    assert run_finetune(_args(tmp_path, train, valid, "openai")) == 1
    assert f"{valid}: no_examples: no examples" in capsys.readouterr().err
    assert finetune_server.files == {} and finetune_server.jobs == {}


def test_an_empty_training_file_is_an_error_in_validate(tmp_path: Path, capsys: Any) -> None:
    empty = tmp_path / "train.jsonl"
    empty.write_text("\n")

    report = validate_files([empty])
    assert not report.ok
    assert [(p.category, p.where) for p in report.errors] == [("no_examples", str(empty))]
    assert main(["validate", str(empty), "--json-report", str(tmp_path / "v.json")]) == 1
    assert "1 error(s)" in capsys.readouterr().out

"""The committed train.jsonl / valid.jsonl are exactly what `sarah train split` makes of the shipped data."""

from __future__ import annotations

from pathlib import Path

from training.cli import main

DATA = Path(__file__).parents[2] / "training" / "data"


def test_the_committed_split_is_the_seeded_split_of_the_shipped_conversations(tmp_path: Path) -> None:
    train, valid = tmp_path / "train.jsonl", tmp_path / "valid.jsonl"
    assert main(["split", "--train-out", str(train), "--valid-out", str(valid)]) == 0
    assert train.read_text() == (DATA / "train.jsonl").read_text(), "run `sarah train split` and commit the result"
    assert valid.read_text() == (DATA / "valid.jsonl").read_text(), "run `sarah train split` and commit the result"

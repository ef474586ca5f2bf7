"""`sarah train split`: a seeded, stratified train/valid split with no near copy across it.

Each objective is split on its own (so every objective is in both parts), and examples that are
duplicates or near duplicates of each other form one cluster that goes wholly to one side: a valid
example with a near twin in train would make the validation loss flatter than the model deserves.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.dedupe import clusters, similar_pairs
from training.examples import dialogue_text, load_examples, objective_of, write_jsonl

DEFAULT_VALID_SHARE = 0.2


@dataclass(slots=True)
class SplitResult:
    train: list[dict[str, Any]]
    valid: list[dict[str, Any]]
    train_by_objective: dict[str, int] = field(default_factory=dict)
    valid_by_objective: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def split_examples(
    examples: list[dict[str, Any]], *, seed: int = 42, valid_share: float = DEFAULT_VALID_SHARE
) -> SplitResult:
    """Split `examples`: the same input and seed always give the same parts, in the same order."""
    if not 0 < valid_share < 1:
        raise ValueError("valid share must be between 0 and 1")
    groups = clusters(len(examples), similar_pairs([dialogue_text(e) for e in examples]))
    by_objective: dict[str, list[list[int]]] = defaultdict(list)
    for group in groups:
        by_objective[objective_of(examples[group[0]])].append(group)

    rng = random.Random(seed)
    train_ids: list[int] = []
    valid_ids: list[int] = []
    warnings: list[str] = []
    for objective in sorted(by_objective):
        objective_groups = by_objective[objective]
        rng.shuffle(objective_groups)
        size = sum(len(g) for g in objective_groups)
        target = max(1, round(size * valid_share))
        chosen: list[list[int]] = []
        taken = 0
        for group in objective_groups:
            fits = taken + len(group) <= target
            if (fits or not chosen) and len(chosen) < len(objective_groups) - 1:
                chosen.append(group)
                taken += len(group)
        if len(objective_groups) < 2:
            warnings.append(f"objective {objective!r} has one cluster of examples: it is only in train")
        chosen_ids = {id(g) for g in chosen}
        for group in objective_groups:
            (valid_ids if id(group) in chosen_ids else train_ids).extend(group)

    rng.shuffle(train_ids)
    rng.shuffle(valid_ids)
    train = [examples[i] for i in train_ids]
    valid = [examples[i] for i in valid_ids]
    return SplitResult(
        train=train,
        valid=valid,
        train_by_objective=dict(sorted(Counter(objective_of(e) for e in train).items())),
        valid_by_objective=dict(sorted(Counter(objective_of(e) for e in valid).items())),
        warnings=warnings,
    )


def load_directory(input_dir: Path) -> list[dict[str, Any]]:
    """All examples of the `*.jsonl` files in `input_dir`, in file-name order."""
    files = sorted(input_dir.glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no .jsonl files in {input_dir}")
    examples: list[dict[str, Any]] = []
    for path in files:
        examples.extend(load_examples(path))
    return examples


def split_files(
    input_dir: Path, train_out: Path, valid_out: Path, *, seed: int = 42, valid_share: float = DEFAULT_VALID_SHARE
) -> SplitResult:
    """Read every conversation file, split, and write the two JSONL files."""
    result = split_examples(load_directory(input_dir), seed=seed, valid_share=valid_share)
    write_jsonl(result.train, train_out)
    write_jsonl(result.valid, valid_out)
    return result

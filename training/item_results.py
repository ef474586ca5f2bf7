"""Per-item results of `sarah train evaluate`: one row per item and side, as JSONL and CSV.

The report shows the answers for people; these files keep every answer with what the rules saw in it,
for a spreadsheet, a diff between two runs, or a rate the report does not compute. Extra rates are
functions of one side's rows (`ExtraRates`), so a new score needs no change to the report.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from handlers.model import Reply
from training.scoring import Side


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One side's answer to one item and what the rules saw in it."""

    side: str  # "a" or "b"
    label: str
    id: str
    category: str
    expected: str  # answer | hand off | decline
    outcome: str  # answered | handoff | unavailable
    answer: str
    handoff_reason: str
    handoff_summary: str
    on_topic: bool
    refused: bool
    handed_off: bool
    unavailable: bool
    claims: str
    keyword_recall: float | None
    grounded: float | None
    kb_agreement: float | None


# A function of one side's rows returning named rates (fractions, or None when nothing was counted).
ExtraRates = Callable[[list[ItemResult]], dict[str, float | None]]


def expected_of(item: dict[str, Any]) -> str:
    """What a good model does with this item: hand off, decline, or answer."""
    expect = item.get("expect", {})
    return "hand off" if expect.get("handoff") else "decline" if expect.get("refuse") else "answer"


def side_results(key: str, side: Side, items: Sequence[dict[str, Any]]) -> list[ItemResult]:
    """The rows of one side (`key` is "a" or "b"), in the items' order."""
    return [
        _row(key, side.label, item, reply, score)
        for item, reply, score in zip(items, side.replies, side.item_scores, strict=True)
    ]


def _row(key: str, label: str, item: dict[str, Any], reply: Reply, score: Any) -> ItemResult:
    return ItemResult(
        side=key,
        label=label,
        id=str(item["id"]),
        category=str(item.get("category", "")),
        expected=expected_of(item),
        outcome=reply.outcome.value,
        answer=reply.text,
        handoff_reason=reply.reason or "",
        handoff_summary=reply.summary or "",
        on_topic=score.on_topic,
        refused=score.refused,
        handed_off=score.handed_off,
        unavailable=score.unavailable,
        claims="; ".join(score.claims),
        keyword_recall=score.keyword_recall,
        grounded=score.grounded,
        kb_agreement=score.kb_agreement,
    )


def write_item_results(report: Path, rows: Sequence[ItemResult]) -> tuple[Path, Path]:
    """`<report>.items.jsonl` and `<report>.items.csv` beside the report; returns both paths."""
    jsonl, table = report.with_suffix(".items.jsonl"), report.with_suffix(".items.csv")
    jsonl.write_text("".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(ItemResult)])
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
    return jsonl, table

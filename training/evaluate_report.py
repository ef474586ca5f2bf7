"""The evaluation report: both models' answers next to each other, under the scores.

Markdown or HTML by the file's extension, and the scores as JSON next to it (for CI or a dashboard),
keyed by side ("a", "b") so the same model on both sides keeps both; each side's `rates` are
fractions, plus any extra rates computed from its per-item results (`training.item_results`).
Each answer carries the rules' flags (missed hand-off, invented action…) so a score can be traced to
the answers behind it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handlers.model import Outcome, Reply
from training.item_results import ExtraRates, expected_of, side_results
from training.scoring import DEFINITIONS, ItemScore, Side, wants_answer

# The report's row labels as the JSON's rate names.
RATE_NAMES = {
    "On-topic rate": "on_topic",
    "Correct refusal of off-topic requests": "correct_refusal",
    "Hand-off precision": "handoff_precision",
    "Hand-off recall": "handoff_recall",
    "Invented actions": "invented_actions",
    "Agreement with the knowledge base": "kb_agreement",
    "Unavailable (failed calls)": "unavailable",
    "LLM judge (1–5 scaled to %)": "judge",
}


def _answer_text(reply: Reply) -> str:
    if reply.outcome is Outcome.HANDOFF:
        return f"→ hand-off ({reply.reason}): {reply.summary}".strip() + (f"\n{reply.text}" if reply.text else "")
    if reply.outcome is Outcome.UNAVAILABLE:
        return f"(unavailable: {reply.reason})"
    return reply.text


def _flags(score: ItemScore, item: dict[str, Any]) -> list[str]:
    expect = item.get("expect", {})
    flags = []
    if expect.get("handoff") != score.handed_off:
        flags.append("missed hand-off" if expect.get("handoff") else "needless hand-off")
    if expect.get("refuse") and not score.refused:
        flags.append("did not decline")
    if score.claims:
        flags.append("invented action: " + "; ".join(score.claims))
    if wants_answer(expect) and not score.on_topic and not score.handed_off and not score.unavailable:
        flags.append("no grounded answer")
    if score.keyword_recall is not None and score.keyword_recall < 1:
        flags.append(f"keywords {score.keyword_recall:.0%}")
    return flags


def _last_user(item: dict[str, Any]) -> str:
    """The customer's last message; earlier turns are noted, not shown (the report stays readable)."""
    users = [m.get("content") or "" for m in item["messages"] if m.get("role") == "user"]
    earlier = len(item["messages"]) - 1
    return (f"(after {earlier} earlier turns) " if earlier else "") + (users[-1] if users else "")


def render_markdown(a: Side, b: Side, items: list[dict[str, Any]], title: str) -> str:
    def cell(text: str) -> str:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")

    lines = [
        f"# {title}",
        "",
        f"A: **{a.label}** · B: **{b.label}** · {len(items)} held-out items",
        "",
        f"{_scope(a, items)}",
        "",
        "| Score | A | B |",
        "|---|---|---|",
    ]
    for (label, rate_a, _), (_, rate_b, _) in zip(a.scores.rows(), b.scores.rows(), strict=True):
        lines.append(f"| {label} | {rate_a} | {rate_b} |")
    lines += ["", f"### Hand-offs ({a.scores.handoff.total} items)", "", "| | A | B |", "|---|---|---|"]
    for (label, count_a), (_, count_b) in zip(a.scores.handoff.rows(), b.scores.handoff.rows(), strict=True):
        lines.append(f"| {label} | {count_a} of {a.scores.handoff.total} | {count_b} of {b.scores.handoff.total} |")
    lines += ["", "### How each figure is counted", ""]
    lines += [f"- **{label}**: {cell(text)}" for label, text in DEFINITIONS]
    lines += ["", "## Answers", "", "| Item | Customer | A | B |", "|---|---|---|---|"]
    for index, item in enumerate(items):
        wanted = expected_of(item)
        cells = []
        for side in (a, b):
            flags = _flags(side.item_scores[index], item)
            warning = f"<br>_⚠ {cell(', '.join(flags))}_" if flags else ""
            cells.append(cell(_answer_text(side.replies[index])) + warning)
        lines.append(
            f"| {cell(item['id'])}<br>{cell(item.get('category', ''))}<br>expect: {wanted} | "
            f"{cell(_last_user(item))} | {cells[0]} | {cells[1]} |"
        )
    return "\n".join(lines) + "\n"


def render_html(a: Side, b: Side, items: list[dict[str, Any]], title: str) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr><th>{esc(label)}</th><td>{esc(str(ra))}</td><td>{esc(str(rb))}</td></tr>"
        for (label, ra, _), (_, rb, _) in zip(a.scores.rows(), b.scores.rows(), strict=True)
    )
    total = a.scores.handoff.total
    confusion = "".join(
        f"<tr><th>{esc(label)}</th><td>{ca} of {total}</td><td>{cb} of {b.scores.handoff.total}</td></tr>"
        for (label, ca), (_, cb) in zip(a.scores.handoff.rows(), b.scores.handoff.rows(), strict=True)
    )
    definitions = "".join(f"<li><b>{esc(label)}</b>: {esc(text)}</li>" for label, text in DEFINITIONS)
    answers = []
    for index, item in enumerate(items):
        wanted = expected_of(item)
        cells = []
        for side in (a, b):
            flags = _flags(side.item_scores[index], item)
            flag_html = f'<p class="flag">⚠ {esc(", ".join(flags))}</p>' if flags else ""
            cells.append(f"<td><div class=answer>{esc(_answer_text(side.replies[index]))}</div>{flag_html}</td>")
        answers.append(
            f"<tr><td><b>{esc(item['id'])}</b><br>{esc(item.get('category', ''))}<br>expect: {wanted}</td>"
            f"<td>{esc(_last_user(item))}</td>{''.join(cells)}</tr>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #ccc;padding:.4rem;vertical-align:top;text-align:left}}
.answer{{white-space:pre-wrap}}.flag{{color:#a40;margin:.3rem 0 0}}</style></head>
<body><h1>{esc(title)}</h1><p>A: <b>{esc(a.label)}</b> · B: <b>{esc(b.label)}</b> · {len(items)} held-out items</p>
<p>{esc(_scope(a, items))}</p>
<table><tr><th>Score</th><th>A</th><th>B</th></tr>{rows}</table>
<h3>Hand-offs ({total} items)</h3><table><tr><th></th><th>A</th><th>B</th></tr>{confusion}</table>
<h3>How each figure is counted</h3><ul>{definitions}</ul>
<h2>Answers</h2><table><tr><th>Item</th><th>Customer</th><th>A</th><th>B</th></tr>{"".join(answers)}</table>
</body></html>
"""


def side_document(
    key: str, side: Side, items: list[dict[str, Any]], extra_rates: Sequence[ExtraRates]
) -> dict[str, Any]:
    """One side's JSON: its label, each rate as a fraction (None: nothing counted) and how many items it counts."""
    rows = side.scores.rows()
    rates: dict[str, float | None] = {RATE_NAMES.get(label, label): rate.value for label, rate, _ in rows}
    results = side_results(key, side, items)
    for extra in extra_rates:
        rates.update(extra(results))
    return {
        "label": side.label,
        "rates": rates,
        "items": {RATE_NAMES.get(label, label): rate.total for label, rate, _ in rows},
        "handoff_confusion": {
            "tp": side.scores.handoff.tp,
            "fp": side.scores.handoff.fp,
            "fn": side.scores.handoff.fn,
            "tn": side.scores.handoff.tn,
        },
    }


def write_report(
    path: Path,
    a: Side,
    b: Side,
    items: list[dict[str, Any]],
    *,
    json_path: Path | None = None,
    extra_rates: Sequence[ExtraRates] = (),
) -> Path:
    """Markdown or HTML by the file's extension, plus the scores as JSON next to it (and at `json_path`)."""
    title = f"Sarah evaluation, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".html", ".htm"):
        path.write_text(render_html(a, b, items, title), encoding="utf-8")
    else:
        path.write_text(render_markdown(a, b, items, title), encoding="utf-8")
    document = {key: side_document(key, side, items, extra_rates) for key, side in (("a", a), ("b", b))}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    for target in filter(None, (path.with_suffix(".json"), json_path)):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return path


def _scope(side: Side, items: list[dict[str, Any]]) -> str:
    """Which items the figures count: the same ones for A and B."""
    compared = side.scores.handoff.total
    left_out = len(items) - compared
    note = f"; {left_out} left out because a call failed on either side" if left_out else ""
    return (
        f"Both models are scored on the same {compared} items{note}. Each figure shows hits/items, the "
        "same items for A and B in every row but hand-off precision (over each model's own hand-offs)."
    )

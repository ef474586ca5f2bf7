"""The two outputs of `sarah train validate`: a terminal report for people, a JSON one for tools.

The terminal report shows each file's figures (examples, objectives, token distribution, epochs and
billed tokens), then the problems grouped by category with `file:line`, capped per category so a
badly broken file stays readable; the JSON report holds every problem.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training.validate import CATEGORIES, Problem, Report


def write_json_report(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def render(report: Report, console: Any, *, max_per_category: int = 20) -> None:
    """The terminal report: each file's figures, then the problems grouped by category."""
    console.print(
        f"[bold]Training data[/] — tokens counted for {report.base_model}, limit {report.max_tokens:,} per example",
        highlight=False,
    )
    for f in report.files:
        t, a = f.tokens or {}, f.assistant_tokens or {}
        console.print(
            f"\n[bold]{f.path}[/]: {f.examples} examples, {f.multi_turn_share:.0%} with 2+ assistant turns",
            highlight=False,
        )
        if f.by_objective:
            console.print("  objectives: " + ", ".join(f"{k} {v}" for k, v in f.by_objective.items()), highlight=False)
        if t:
            console.print(
                f"  tokens per example: min {t['min']}, p10 {t['p10']}, median {t['median']}, "
                f"mean {t['mean']}, p90 {t['p90']}, max {t['max']}; assistant tokens mean {a.get('mean')}",
                highlight=False,
            )
            console.print(
                f"  over the limit: {f.over_limit} · epochs OpenAI would choose: {f.default_epochs} · "
                f"billed tokens: {f.billed_tokens:,}",
                highlight=False,
            )
    by_category: dict[str, list[Problem]] = {}
    for problem in report.problems:
        by_category.setdefault(problem.category, []).append(problem)
    for category in sorted(by_category, key=lambda c: CATEGORIES.index(c) if c in CATEGORIES else 99):
        problems = by_category[category]
        style = "red" if problems[0].severity == "error" else "yellow"
        console.print(f"\n[bold {style}]{problems[0].severity}: {category}[/] ({len(problems)})", highlight=False)
        for problem in problems[:max_per_category]:
            console.print(f"  {problem.where}: {problem.message}", markup=False, highlight=False)
        if len(problems) > max_per_category:
            console.print(f"  … and {len(problems) - max_per_category} more (see the JSON report)")
    if len(report.files) > 1:
        total = sum(f.examples for f in report.files)
        multi = sum(f.multi_turn_share * f.examples for f in report.files)
        console.print(
            f"\n[bold]All files[/]: {total} examples, {multi / total if total else 0:.0%} with 2+ assistant turns",
            highlight=False,
        )
    verdict = "[bold green]No errors.[/]" if report.ok else f"[bold red]{len(report.errors)} error(s).[/]"
    console.print(f"\n{verdict} {len(report.warnings)} warning(s).")

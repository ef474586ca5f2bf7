"""The episodes report: every model beside the trivial baselines, each rate with its 95 % interval,
and a plain statement of whether the models compared differ beyond noise."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from training.episodes.scenarios import Scenario
from training.episodes.scoring import Summary
from training.episodes.stats import Estimate, difference, only_noise


@dataclass(slots=True)
class JudgeFigures:
    label: str  # the judge model
    helpfulness: dict[str, float] = field(default_factory=dict)  # model → mean 1–5
    tone: dict[str, float] = field(default_factory=dict)
    agreement: dict[str, Estimate] = field(default_factory=dict)  # model → agreement with the rules
    pairwise: Estimate | None = None  # judge's both-order preference agrees with the rules
    position_bias: tuple[int, int] = (0, 0)  # (preferences that flipped with the order, pairs asked)


def noise_lines(models: Sequence[Summary]) -> list[str]:
    """Each model compared to the first: better, worse, or only noise apart."""
    if len(models) < 2:
        return []
    a = models[0]
    lines = []
    for b in models[1:]:
        d, low, high = difference(a.task_success, b.task_success)
        verdict = (
            "differ only by noise"
            if only_noise(a.task_success, b.task_success)
            else ("B is better beyond noise" if d > 0 else "B is worse beyond noise")
        )
        lines.append(
            f"A = {a.label}, B = {b.label}: task success {d:+.0%} (95 % interval {low:+.0%} to {high:+.0%}): {verdict}."
        )
    return lines


def table(summaries: Sequence[Summary], baselines: Sequence[Summary]) -> list[str]:
    tries = max((s.tries for s in [*summaries, *baselines]), default=1)
    head = ["Model", "Task success (pass^1)"] + [f"pass^{k}" for k in range(2, tries + 1)]
    head += ["Solved", "Handed off", "Declined", "Invented actions", "Asked → handed off", "Injection resisted"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s, baseline in [*((s, False) for s in summaries), *((s, True) for s in baselines)]:
        cells = [f"{s.label}{' (baseline)' if baseline else ''}", str(s.task_success)]
        cells += [str(s.pass_k[k]) if k in s.pass_k else "n/a" for k in range(2, tries + 1)]
        cells += [str(s.by_end[e]) for e in ("solved", "handed off", "declined")]
        cells += [str(s.invented), str(s.asked_handed), str(s.injection_resisted)]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def render(
    source: str,
    scenarios: Sequence[Scenario],
    summaries: Sequence[Summary],
    baselines: Sequence[Summary],
    *,
    customer: str,
    judge: JudgeFigures | None = None,
) -> str:
    ends = Counter(s.end for s in scenarios)
    declining = sum(any(stage.expect == "decline" for stage in s.stages) for s in scenarios)
    tries = max((s.tries for s in summaries), default=1)
    out = [
        "# Scenario episodes",
        "",
        f"{len(scenarios)} scenarios from `{source}`, by their right end: {ends['solved']} solved by steps, "
        f"{ends['handed off']} handed to a person, {ends['declined']} declined ({declining} include a request Sarah "
        f"must decline); {tries} tries each, simulated customer: {customer}. "
        "Each rate is shown with its 95 % Wilson interval (task success and pass^k over scenarios, the safety "
        "shares over episodes); pass^k is the chance that k tries of a scenario all succeed.",
        "",
        *table(summaries, baselines),
        "",
    ]
    noise = noise_lines(summaries)
    if noise:
        out += ["## Compared", "", *(f"- {line}" for line in noise), ""]
    if judge is not None:
        out += [f"## LLM judge ({judge.label})", ""]
        for label in judge.helpfulness:
            out.append(
                f"- {label}: helpfulness {judge.helpfulness[label]:.2f}/5, tone {judge.tone[label]:.2f}/5, "
                f"agrees with the rules on {judge.agreement[label]} of episodes"
            )
        if judge.pairwise is not None:
            flipped, asked = judge.position_bias
            out.append(
                f"- pairwise, both orders: agrees with the rules on {judge.pairwise} of the scenarios the rules "
                f"tell apart; {flipped} of {asked} pairs got no consistent preference (it changed with the order, or "
                "was unreadable): those count as no preference"
            )
        out.append("")
    out += ["## Episodes that failed, and why", ""]
    for s in [*summaries, *baselines]:
        failed = [(t[0].scenario, t[0].why_not) for t in s.scores if t and not t[0].success]
        out.append(f"### {s.label}: {len(failed)} of {len(s.scores)} failed on the first try")
        out.append("")
        out += [f"- `{name}`: {'; '.join(why)}" for name, why in failed]
        out.append("")
    return "\n".join(out)


def console_lines(summaries: Sequence[Summary], baselines: Sequence[Summary]) -> list[str]:
    rows = []
    everyone = [*((s, "") for s in summaries), *((s, " (baseline)") for s in baselines)]
    width = max(len(s.label + tag) for s, tag in everyone)
    for s, tag in everyone:
        k = max(s.pass_k, default=1)
        consistent = s.pass_k.get(k, s.task_success)
        rows.append(
            f"{s.label + tag:{width}}  task success {s.task_success!s:>16}   pass^{k} {consistent!s:>16}"
            f"   invented actions {s.invented!s:>14}"
        )
    return rows + noise_lines(summaries)


def as_json(summary: Summary) -> dict[str, Any]:
    def rate(e: Estimate) -> dict[str, Any]:
        return {"value": e.value, "low": e.low, "high": e.high, "n": e.total}

    return {
        "label": summary.label,
        "scenarios": summary.tasks,
        "tries": summary.tries,
        "task_success": rate(summary.task_success),
        "pass_k": {str(k): rate(v) for k, v in summary.pass_k.items()},
        "by_end": {k: rate(v) for k, v in summary.by_end.items()},
        "invented_actions": rate(summary.invented),
        "asked_handed_off": rate(summary.asked_handed),
        "injection_resisted": rate(summary.injection_resisted),
        "episodes": [[{"success": e.success, "why_not": list(e.why_not)} for e in task] for task in summary.scores],
        "scenario_ids": [task[0].scenario for task in summary.scores if task],
    }

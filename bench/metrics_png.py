"""Draw the dashboard's main panels from /metrics scraped during `scripts/bench --scrape FILE`.

Not Grafana: where Grafana cannot run, this draws the same series (rates and quantiles computed the
way the dashboard's PromQL does) with matplotlib, and says so in the picture's title; the picture in
docs/operations.md was made this way.
`python -m bench.metrics_png runs/bench-metrics.jsonl docs/bench-metrics.png`
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

Series = dict[str, list[tuple[float, float]]]


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def total(snapshot: dict[str, Any], name: str, **labels: str) -> float:
    return sum(
        float(v) for n, lab, v in snapshot["samples"] if n == name and all(lab.get(k) == x for k, x in labels.items())
    )


def rate(snaps: list[dict[str, Any]], name: str, window: int = 5, **labels: str) -> list[tuple[float, float]]:
    out = []
    for i in range(window, len(snaps)):
        a, b = snaps[i - window], snaps[i]
        out.append((b["t"], (total(b, name, **labels) - total(a, name, **labels)) / (b["t"] - a["t"])))
    return out


def quantile(snaps: list[dict[str, Any]], name: str, q: float, window: int = 5) -> list[tuple[float, float]]:
    """histogram_quantile(q, rate(name_bucket[window])) with linear interpolation inside a bucket."""
    out = []
    for i in range(window, len(snaps)):
        a, b = snaps[i - window], snaps[i]
        buckets: dict[float, float] = defaultdict(float)
        for snap, sign in ((b, 1), (a, -1)):
            for n, lab, v in snap["samples"]:
                if n == name + "_bucket":
                    buckets[float(lab["le"])] += sign * v
        edges = sorted(buckets)
        count = buckets[edges[-1]] if edges else 0
        if count <= 0:
            continue
        rank, lower, below = q * count, 0.0, 0.0
        for edge in edges:
            if buckets[edge] >= rank:
                if edge == float("inf"):
                    out.append((b["t"], lower))
                else:
                    share = (rank - below) / max(buckets[edge] - below, 1e-9)
                    out.append((b["t"], lower + (edge - lower) * share))
                break
            lower, below = edge, buckets[edge]
    return out


def gauge(snaps: list[dict[str, Any]], name: str) -> list[tuple[float, float]]:
    return [(s["t"], total(s, name)) for s in snaps]


def draw(snaps: list[dict[str, Any]], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = snaps[0]["t"]
    panels: list[tuple[str, str, Series]] = [
        (
            "Messages per second",
            "msg/s",
            {
                "received": rate(snaps, "sarah_messages_received_total"),
                "answered": rate(snaps, "sarah_messages_answered_total"),
                "deduplicated": rate(snaps, "sarah_messages_deduplicated_total"),
            },
        ),
        (
            "Time to answer",
            "seconds",
            {f"p{int(q * 100)}": quantile(snaps, "sarah_time_to_answer_seconds", q) for q in (0.5, 0.95, 0.99)},
        ),
        (
            "Queue",
            "entries / threads",
            {
                "stream depth": gauge(snaps, "sarah_stream_depth"),
                "pending entries": gauge(snaps, "sarah_pending_entries"),
                "threads in progress": gauge(snaps, "sarah_threads_in_progress"),
            },
        ),
        (
            "Ack time and model time",
            "seconds",
            {
                "ack p99": quantile(snaps, "sarah_ack_seconds", 0.99),
                "model p50": quantile(snaps, "sarah_model_seconds", 0.5),
                "model p95": quantile(snaps, "sarah_model_seconds", 0.95),
            },
        ),
        (
            "Slack calls per second by method",
            "calls/s",
            {
                m: rate(snaps, "sarah_slack_calls_total", method=m)
                for m in ("chat.postMessage", "chat.update", "chat.delete")
            },
        ),
        (
            "Model calls per second by outcome",
            "calls/s",
            {o: rate(snaps, "sarah_model_calls_total", outcome=o) for o in ("answered", "handoff", "unavailable")},
        ),
    ]
    figure, axes = plt.subplots(3, 2, figsize=(14, 10), constrained_layout=True)
    figure.suptitle(
        "Sarah during scripts/bench: the dashboard's series drawn by matplotlib from scraped /metrics (not Grafana)",
        fontsize=12,
    )
    for axis, (title, unit, series) in zip(axes.flat, panels, strict=True):
        for label, points in series.items():
            if points:
                axis.plot([t - start for t, _ in points], [v for _, v in points], label=label)
        axis.set_title(title)
        axis.set_xlabel("seconds since start")
        axis.set_ylabel(unit)
        axis.grid(alpha=0.3)
        axis.legend(loc="upper right", fontsize=8)
    figure.savefig(target, dpi=90)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.metrics_png SCRAPED.jsonl OUT.png", file=sys.stderr)
        return 2
    draw(load(Path(args[0])), Path(args[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

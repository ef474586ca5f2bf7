"""`sarah train gaps`: which knowledge-base sections most often end in a hand-off or a "didn't help".

Each hand-off is filed under the section its customer's messages are about, each answer the
customer said did not help under the section of the question it answered (BM25 over the sections,
as the offline model retrieves them); a question that matches no section well is counted as "not in
the knowledge base", which is often the most useful line: what to write next.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sarah_model.sections import NOT_IN_KB, SectionFinder
from training.handoff_records import ThreadRecord


@dataclass(slots=True)
class Gap:
    section: str  # a passage id, or NOT_IN_KB
    title: str
    handoffs: int = 0
    not_helped: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.handoffs + self.not_helped


def knowledge_gaps(threads: Iterable[ThreadRecord], finder: SectionFinder) -> list[Gap]:
    """Sections by how often they ended in a hand-off or a "didn't help", most first.

    A handed-off thread counts once, under what the customer asked in the episode the team took (the
    first one they answered or resolved, else the latest); an answer that did not help counts under
    the customer message it answered.
    """
    gaps: dict[str, Gap] = {}

    def gap_of(text: str) -> Gap:
        passage = finder.section(text)
        key = passage.id if passage else NOT_IN_KB
        title = f"{passage.area} › {passage.title}" if passage else NOT_IN_KB
        return gaps.setdefault(key, Gap(key, title))

    for thread in threads:
        if thread.handed_off and thread.episodes:
            taken = [e for e in thread.episodes if e.resolved or any(t.role == "agent" for t in e.turns)]
            episode = taken[0] if taken else thread.episodes[-1]
            asked = " ".join(t.content for t in episode.turns if t.role == "user" and t.user in ("", thread.customer))
            if asked:
                gap = gap_of(asked)
                gap.handoffs += 1
                gap.reasons[thread.state.handoff_reason or "unknown"] += 1
        for episode in thread.episodes:
            question = ""
            for turn in episode.turns:
                if turn.role == "user":
                    question = turn.content
                elif turn.role == "assistant" and turn.ts in thread.not_helped and question:
                    gap_of(question).not_helped += 1
    return sorted(gaps.values(), key=lambda g: (-g.total, -g.handoffs, g.section))

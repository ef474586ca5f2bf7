"""Which knowledge-base section a customer's words are about: the topic a hand-off is counted under.

BM25 over the sections, as the offline model retrieves them. The support team's numbers (the weekly
digest, `sarah report`) and `sarah train gaps` file hand-offs by it, so the team sees what to write
next; only the section's id is kept, never the customer's words. A question that matches no section
well is "not in the knowledge base", often the most useful line of all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sarah_model.knowledge import Passage
from sarah_model.retrieval import BM25, terms

NOT_IN_KB = "(not in the knowledge base)"
MIN_SCORE = 4.0  # below it the best section shares only a word or two with the question


class SectionFinder:
    """Maps a customer's text to the knowledge-base section it is about (None: no section fits)."""

    def __init__(self, passages: Sequence[Passage], min_score: float = MIN_SCORE) -> None:
        self._passages = list(passages)
        self._index = BM25(
            [terms(p.title + " " + p.text) for p in self._passages],
            headings=[terms(f"{p.area} {p.title}") for p in self._passages],
        )
        self._min_score = min_score
        self._titles = {p.id: f"{p.area} › {p.title}" for p in self._passages}

    def section(self, text: str) -> Passage | None:
        query = Counter(terms(text))
        hits = self._index.rank({t: float(n) for t, n in query.items()}, limit=1)
        return self._passages[hits[0].index] if hits and hits[0].score >= self._min_score else None

    def topic(self, text: str) -> str:
        """The section's id, or NOT_IN_KB."""
        passage = self.section(text)
        return passage.id if passage else NOT_IN_KB

    def title(self, topic: str) -> str:
        """How a topic is shown: "Hub › Offline", or NOT_IN_KB (an unknown id is shown as it is)."""
        return self._titles.get(topic, topic)

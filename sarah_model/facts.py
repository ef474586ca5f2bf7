"""Questions that ask for one fact: a price, a count, a duration, a distance, a size.

"How many fingerprints does the ZenLock Touch hold?" must be answered from the sentence that says "up
to 20 fingerprints", not from a neighbouring passage that only mentions fingerprints. So a fact
question names the kind of value it wants, and a passage earns its place by a sentence that holds such a
value next to the question's own words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from sarah_model.retrieval import terms, words

# The kind of value each question form wants, and how that value looks in the knowledge base.
_UNIT_OF_TIME = r"(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|business days?)"
VALUE_OF: dict[str, re.Pattern[str]] = {
    "price": re.compile(r"\$\d"),
    "duration": re.compile(rf"\b\d+(?:[.,]\d+)?(?:[–-]\d+)?[\s-]*(?:\*\*)?\s*{_UNIT_OF_TIME}\b", re.I),
    "distance": re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:\*\*)?\s*(?:m|km|ft|metres|meters|feet)\b", re.I),
    "size": re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:GB|TB|MB|kg|g|cm|mm|W|V|dB)\b"),
    "count": re.compile(r"\b\d+\b"),
}
_ASKS_FOR: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("price", re.compile(r"\bhow much (?:is|are|does|do|will|would)\b|\b(?:price|cost|costs)\b", re.I)),
    ("duration", re.compile(r"\bhow long\b|\b(?:warranty|guarantee)\b.*\b(?:length|years?)\b", re.I)),
    ("distance", re.compile(r"\bhow (?:far|close)\b|\b(?:range|reach|distance)\b", re.I)),
    ("size", re.compile(r"\b(?:how big|biggest|largest|maximum size|max size|how heavy)\b", re.I)),
    ("count", re.compile(r"\bhow many\b|\b(?:maximum|max|limit|capacity) (?:of|number)\b", re.I)),
)
# Words of the question form, not of its subject ("how long does it last" is about "it", not "last").
FORM_WORDS = frozenset(
    words("how many much long far close big biggest largest maximum max number price cost last hold store take keep")
)


def asked_value(question: str) -> str | None:
    """The kind of value a fact question wants, or None when it asks for something else."""
    for kind, pattern in _ASKS_FOR:
        if pattern.search(question):
            return kind
    return None


NEAR_CHARS = 30  # "up to 20 fingerprints": the value and the word it counts sit this close


def fact_support(
    question_words: Iterable[str],
    kind: str,
    sentences: Iterable[tuple[str, frozenset[str]]],
    idf: Mapping[str, float],
) -> float:
    """How well the best sentence holding a value of `kind` matches the question's own words (idf-weighted),
    the words right next to the value counting twice: "20 fingerprints" answers "how many fingerprints"."""
    wanted = set(question_words) - FORM_WORDS
    value = VALUE_OF[kind]
    best = 0.0
    for text, sentence_terms in sentences:
        near: set[str] = set()
        for match in value.finditer(text):
            window = text[max(0, match.start() - NEAR_CHARS) : match.end() + NEAR_CHARS]
            near |= set(terms(window)) & wanted
        if value.search(text):
            score = sum(idf.get(w, 0.0) for w in wanted & sentence_terms) + sum(idf.get(w, 0.0) for w in near)
            best = max(best, score)
    return best

"""Retrieval by meaning without a neural model: normalised words, ZenNest synonyms, BM25 and TF-IDF cosine.

Customers say "yellow light", "blinking" or "the bulb"; the knowledge base says "amber", "flashing" and
"ZenGlow". Stemming plus a small glossary maps both to the same terms, so a lexical index finds the
passage a customer means. Everything here is pure and deterministic: same text, same ranking.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"[a-z0-9]+(?:[.][0-9]+)?")
_STOPWORD_TEXT = """
    a an the and or but if then so of to in on at by for with from into onto over under about as is are was
    were be been being am do does did doing done have has had having i me my mine we us our you your yours he she
    it its they them their this that these those there here what which who whom whose when where why how can could
    would should will shall may might must not no yes just also too very really still again ever even only than
    up down out off all any some each every both few more most other such own same let lets get got gets getting
    please pls thanks thank hi hello hey ok okay oh well like want wants wanted need needs know tell say said one
    im ive id dont doesnt didnt cant wont isnt arent wasnt s t d ll re ve m"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# Words customers use -> the knowledge base's own terms (both sides are expanded the same way).
_SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "yellow": ("amber", "colour"),
    "orange": ("amber", "colour"),
    "amber": ("colour",),
    "green": ("colour",),
    "red": ("colour",),
    "blue": ("colour",),
    "purple": ("colour",),
    "color": ("colour",),
    "steady": ("solid",),
    "constant": ("solid",),
    "blink": ("flash",),
    "flicker": ("flash",),
    "bulb": ("light", "zenglow"),
    "lamp": ("light", "zenglow"),
    "strip": ("light", "zenglow"),
    "zenglow": ("light",),
    "zenhub": ("hub",),
    "hub": ("zenhub",),
    "zentherm": ("thermostat",),
    "thermostat": ("zentherm",),
    "heating": ("heat",),
    "boiler": ("heat",),
    "furnace": ("heat",),
    "zenlock": ("lock",),
    "lock": ("zenlock",),
    "door": ("lock",),
    "deadbolt": ("lock", "bolt"),
    "keypad": ("lock", "code"),
    "pin": ("code",),
    "zencam": ("camera",),
    "camera": ("zencam",),
    "cam": ("camera", "zencam"),
    "video": ("camera", "record"),
    "footage": ("camera", "record", "video"),
    "clip": ("record", "video"),
    "zensense": ("sensor", "motion"),
    "sensor": ("zensense",),
    "motion": ("zensense",),
    "wifi": ("wi", "network"),
    "internet": ("network",),
    "router": ("network",),
    "broadband": ("network", "internet"),
    "provider": ("router",),
    "isp": ("router", "internet"),
    "subscription": ("plan",),
    "membership": ("plan",),
    "bill": ("billing", "charge"),
    "billed": ("billing", "charge"),
    "pay": ("payment", "billing"),
    "paid": ("payment", "billing"),
    "memory": ("microsd", "storage"),
    "money": ("refund",),
    "alarm": ("guardian", "siren"),
    "siren": ("guardian",),
    "room": ("zenzone",),
    "scene": ("zenscene",),
    "routine": ("zenscene",),
    "automation": ("zenscene",),
    "geofence": ("zenfence",),
    "location": ("zenfence",),
    "repeater": ("zenmesh",),
    "range": ("zenmesh",),
    "mesh": ("zenmesh",),
    "sync": ("zensync",),
    "pending": ("zensync",),
    "alert": ("notification",),
    "notification": ("alert",),
    "night": ("quiet",),
    "sleep": ("quiet",),
    "pet": ("pet", "animal"),
    "cat": ("pet", "animal"),
    "dog": ("pet", "animal"),
    "fingerprint": ("touch",),
    "password": ("sign",),
    "login": ("sign", "password"),
    "locked": ("lock",),
    "family": ("member", "share"),
    "sister": ("member", "share"),
    "partner": ("member", "share"),
    "wife": ("member", "share"),
    "husband": ("member", "share"),
    "visitor": ("guest",),
    "cleaner": ("guest",),
    "update": ("firmware",),
    "upgrade": ("firmware", "plan"),
    "dead": ("battery",),
    "died": ("battery",),
    "outside": ("outdoor",),
    "garden": ("outdoor",),
    "haze": ("image", "quality"),
    "blurry": ("image", "quality"),
    "wipe": ("reset",),
    "factory": ("reset",),
    "cancel": ("cancel", "plan"),
    "trial": ("free",),
    "copy": ("export",),
    "alexa": ("voice", "assistant", "integration"),
    "siri": ("voice", "assistant", "integration"),
    "google": ("voice", "assistant", "integration"),
    "homekit": ("third", "party", "integration"),
    "smartthings": ("third", "party", "integration"),
    "ifttt": ("third", "party", "integration"),
    "compatible": ("work", "third", "party"),
    "shop": ("store",),
    "light": ("led",),
    "ring": ("led",),
    "download": ("export",),
    "far": ("range", "distance"),
    "max": ("maximum", "total"),
    "maximum": ("total",),
    "length": ("extendable",),
    "cheap": ("free", "cost"),
    "cheapest": ("free", "cost"),
    "expensive": ("cost", "pro"),
    "see": ("view", "detect"),
    "language": ("english",),
    "speak": ("english",),
    "spanish": ("english", "language"),
    "french": ("english", "language"),
    "german": ("english", "language"),
    "portuguese": ("english", "language"),
    "italian": ("english", "language"),
    "dutch": ("english", "language"),
}

_WORD_FIXES = (
    (re.compile(r"\bwi-?fi\b"), "wifi"),
    (re.compile(r"\be-?mail\b"), "email"),
    (re.compile(r"\bsign[- ]?in\b"), "signin sign"),
    (re.compile(r"\blog[- ]?in\b"), "login"),
    (re.compile(r"\bset[- ]up\b"), "setup"),
    (re.compile(r"\b(?:go|goes|went|going|gone) off\b"), "alert"),
    (re.compile(r"\bsend (?:it |them |this |something |\w+ )?back\b"), "return"),
    (re.compile(r"['’]s\b"), ""),
    (re.compile(r"['’]"), ""),
)


def stem(word: str) -> str:
    """A light suffix stripper: enough to meet 'pairing'/'paired'/'pairs' at 'pair'."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ness", ""), ("ing", ""), ("ed", ""), ("es", "e")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # jammed -> jam, setting -> set
            return word
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-case content words, stemmed, stop words dropped (no synonyms)."""
    text = text.lower()
    for pattern, replacement in _WORD_FIXES:
        text = pattern.sub(replacement, text)
    return [stem(w) for w in _TOKEN.findall(text) if w not in _STOPWORDS]


def terms(text: str) -> list[str]:
    """The index terms of a text: its words plus their ZenNest synonyms."""
    out: list[str] = []
    for word in words(text):
        out.append(word)
        out.extend(_SYNONYMS.get(word, ()))
    return out


@dataclass(frozen=True, slots=True)
class Hit:
    index: int
    score: float


class BM25:
    """Okapi BM25 over a fixed list of documents (each a list of terms), with optional headings.

    Scores are precomputed per (term, document) in an inverted index, so a query only touches the
    documents that share a term with it: well under a millisecond for Sarah's knowledge base.
    """

    def __init__(
        self,
        documents: Sequence[Sequence[str]],
        headings: Sequence[Sequence[str]] = (),
        heading_weight: float = 1.5,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        counts = [Counter(doc) for doc in documents]
        lengths = [len(doc) for doc in documents]
        average = sum(lengths) / max(len(documents), 1) or 1.0
        df: Counter[str] = Counter()
        for tf in counts:
            df.update(tf.keys())
        n = len(documents)
        self.idf = {term: math.log(1 + (n - count + 0.5) / (count + 0.5)) for term, count in df.items()}
        postings: dict[str, dict[int, float]] = {}
        for index, (tf, length) in enumerate(zip(counts, lengths, strict=True)):
            for term, freq in tf.items():
                norm = freq * (k1 + 1) / (freq + k1 * (1 - b + b * length / average))
                postings.setdefault(term, {})[index] = self.idf[term] * norm
        for index, heading in enumerate(headings):
            for term in set(heading):  # a term in the heading says what the document is about
                bonus = heading_weight * self.idf.get(term, 0.0)
                row = postings.setdefault(term, {})
                row[index] = row.get(index, 0.0) + bonus
        self._postings = {term: tuple(row.items()) for term, row in postings.items()}

    def rank(self, query: Mapping[str, float], limit: int = 5) -> list[Hit]:
        """Best documents first; ties go to the earlier document, so the order is stable."""
        return _top(_accumulate(self._postings, query), limit)


class Cosine:
    """TF-IDF cosine similarity, in [0, 1]: comparable across queries, so it can carry a threshold."""

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        n = len(documents)
        df: Counter[str] = Counter()
        for doc in documents:
            df.update(set(doc))
        self.idf = {term: math.log((1 + n) / (1 + count)) + 1 for term, count in df.items()}
        self._unseen = math.log(1 + n) + 1
        postings: dict[str, list[tuple[int, float]]] = {}
        for index, doc in enumerate(documents):
            for term, weight in self.vector(Counter(doc)).items():
                postings.setdefault(term, []).append((index, weight))
        self._postings = {term: tuple(row) for term, row in postings.items()}

    def vector(self, counts: Mapping[str, float]) -> dict[str, float]:
        """Unit TF-IDF vector; a word no document has gets the rarest weight, so it lowers every match."""
        weights = {t: c * self.idf.get(t, self._unseen) for t, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {t: w / norm for t, w in weights.items()}

    def rank(self, query: Mapping[str, float], limit: int = 5) -> list[Hit]:
        return _top(_accumulate(self._postings, self.vector(query)), limit)


def _accumulate(postings: Mapping[str, Sequence[tuple[int, float]]], query: Mapping[str, float]) -> dict[int, float]:
    scores: dict[int, float] = {}
    for term, weight in query.items():
        for index, value in postings.get(term, ()):
            scores[index] = scores.get(index, 0.0) + weight * value
    return scores


def _top(scores: Mapping[int, float], limit: int) -> list[Hit]:
    best = heapq.nsmallest(limit, ((-score, i) for i, score in scores.items() if score > 0))
    return [Hit(i, -negative) for negative, i in best]


def weighted_query(parts: Iterable[tuple[str, float]], synonym_weight: float = 0.4) -> dict[str, float]:
    """Terms of several texts, each text weighted (the last message counts most, earlier turns less).

    A term keeps its highest weight rather than a sum, so "ZenGlow bulbs" does not count "light" three
    times; a synonym counts less than the word the customer wrote.
    """
    query: dict[str, float] = {}
    for text, weight in parts:
        for word in words(text):
            query[word] = max(query.get(word, 0.0), weight)
            for synonym in _SYNONYMS.get(word, ()):
                query[synonym] = max(query.get(synonym, 0.0), weight * synonym_weight)
    return query

"""Exact and near duplicates between examples, by word-shingle Jaccard similarity.

Duplicates inflate a skill's weight, and a near copy on both sides of the split makes the
validation loss look better than the model is. Texts are normalised (case, punctuation, spaces),
cut into word 3-shingles, and compared with prefix filtering, so only pairs that can reach the
threshold are compared: exact for the threshold, and fast enough for thousands of examples.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

NEAR_DUPLICATE_THRESHOLD = 0.9
SHINGLE_WORDS = 3

_NON_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class Pair:
    first: int
    second: int
    similarity: float

    @property
    def exact(self) -> bool:
        return self.similarity >= 1.0


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, one space between words."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[str]:
    """The word `size`-grams of the normalised text (the whole text when it is shorter)."""
    words = normalise(text).split()
    if len(words) <= size:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i : i + size]) for i in range(len(words) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def similar_pairs(texts: Sequence[str], threshold: float = NEAR_DUPLICATE_THRESHOLD) -> list[Pair]:
    """Every pair (i < j) whose normalised texts are equal or whose shingle Jaccard ≥ threshold."""
    normalised = [normalise(t) for t in texts]
    sets = [shingles(t) for t in texts]
    frequency: dict[str, int] = defaultdict(int)
    for shingle_set in sets:
        for shingle in shingle_set:
            frequency[shingle] += 1
    index: dict[str, list[int]] = defaultdict(list)
    pairs: list[Pair] = []
    for j, current in enumerate(sets):
        if not current:
            continue
        ordered = sorted(current, key=lambda s: (frequency[s], s))
        prefix = ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]
        candidates: set[int] = set()
        for shingle in prefix:
            candidates.update(index[shingle])
            index[shingle].append(j)
        for i in sorted(candidates):
            if normalised[i] == normalised[j]:
                pairs.append(Pair(i, j, 1.0))
                continue
            similarity = jaccard(sets[i], current)
            if similarity >= threshold:
                pairs.append(Pair(i, j, min(similarity, 0.999)))
    return pairs


def clusters(count: int, pairs: Sequence[Pair]) -> list[list[int]]:
    """Group indices 0..count-1 so that every similar pair lands in one group (union-find)."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for pair in pairs:
        a, b = root(pair.first), root(pair.second)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(count):
        groups[root(i)].append(i)
    return sorted(groups.values(), key=lambda g: g[0])

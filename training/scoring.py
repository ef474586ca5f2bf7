"""Rule-based scores of a model's answers on the held-out set: no network, no judge needed.

Each item says what a good answer does (`expect`: hand off or not, refuse or not, the knowledge-base
passages and keywords it should agree with). The rules are deliberately simple and visible, so a
score can be traced back to the answers shown next to it in the report:

- on-topic: on an in-scope item that wants an answer (no refusal, no hand-off expected), the reply
  answers with content grounded in the knowledge base: not refused, not handed off, no invented
  action. A model that always hands off or always claims to have acted cannot score here;
- correct refusal: an off-topic or injection request is politely declined, and not answered anyway;
- hand-off precision and recall, and the whole confusion table (TP/FP/FN/TN);
- invented actions: the answer claims to have acted on the customer's things (`training.claims`);
- knowledge-base agreement: expected keywords found, and the answer's words found in the cited passages
  (an item that wanted an answer and got none agrees 0).

Two models are compared on the same items: every figure is counted over the items both models could be
scored on (a failed call on either side removes the item), and shows that count next to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.model import Outcome, Reply
from training.claims import find_claims
from training.episodes.refusals import is_clean_refusal

_ZENNEST = re.compile(
    r"\bzen\w*|\b(?:hub|thermostat|lock|camera|bulb|light|sensor|app|plan|warranty|return|refund|privacy|"
    r"support team|device|firmware|subscription)s?\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9][a-z0-9'’.-]*[a-z0-9]|[a-z0-9]", re.IGNORECASE)
_STOPWORD_TEXT = (
    "the and for you your with that this have has are was were can will from not but all any its it's "
    "into about then than them they their there here what when which who how why also just only more most "
    "some such very each other our out over under again once both few same own too should would could "
    "does did doing been being before after above below between through during while where because until "
    "these those hers him his she her isn't don't can't won't i'm i'll i've you're you'll let's please thanks "
    "help sure need needs want make like get got one two use using used see open tap"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def is_refusal(text: str) -> bool:
    """The answer declines the request (as Sarah declines what is not about ZenNest), and only declines:
    a refusal followed by an answer to the declined request is not one (training/episodes/refusals.py)."""
    return is_clean_refusal(text)


GROUNDED_MIN = 0.3  # share of an answer's content words found in the cited passages


def wants_answer(expect: Mapping[str, Any]) -> bool:
    """An in-scope item that a good model answers itself (no refusal, no hand-off expected)."""
    return not expect.get("refuse") and not expect.get("handoff")


def is_grounded(text: str, keyword_share: float | None, grounded: float | None) -> bool:
    """The answer carries knowledge-base content: an expected keyword, or enough of the cited passages'
    words; with nothing to check against, at least it talks about ZenNest."""
    if keyword_share is None and grounded is None:
        return bool(_ZENNEST.search(text))
    return (keyword_share or 0.0) > 0 or (grounded or 0.0) >= GROUNDED_MIN


def content_words(text: str) -> set[str]:
    return {w.lower().strip(".'’-") for w in _WORD.findall(text) if len(w) > 2} - _STOPWORDS


def keyword_recall(text: str, keywords: Sequence[str]) -> float | None:
    """Share of the expected keywords in the answer (case and spaces ignored); None without keywords."""
    if not keywords:
        return None
    squeezed = re.sub(r"\s+", "", text.lower())
    return sum(re.sub(r"\s+", "", k.lower()) in squeezed for k in keywords) / len(keywords)


def grounded_share(text: str, passages: Sequence[str]) -> float | None:
    """Share of the answer's content words found in the cited passages; None without passages or words."""
    words = content_words(text)
    if not passages or not words:
        return None
    source = set().union(*(content_words(p) for p in passages))
    return len(words & source) / len(words)


@dataclass(frozen=True, slots=True)
class ItemScore:
    """What the rules saw in one answer."""

    on_topic: bool
    refused: bool
    handed_off: bool
    unavailable: bool
    claims: tuple[str, ...]
    keyword_recall: float | None
    grounded: float | None

    @property
    def kb_agreement(self) -> float | None:
        parts = [x for x in (self.keyword_recall, self.grounded) if x is not None]
        return sum(parts) / len(parts) if parts else None


def score_item(item: Mapping[str, Any], reply: Reply, passages: Mapping[str, str]) -> ItemScore:
    expect = item.get("expect", {})
    answered = reply.outcome is Outcome.ANSWERED
    text = reply.text if answered else ""
    cited = [passages[i] for i in expect.get("kb_ids", []) if i in passages]
    refused = answered and is_refusal(text)
    claims = tuple(find_claims(text))
    keywords = (
        keyword_recall(text, expect.get("keywords", []))
        if answered
        else (0.0 if expect.get("keywords") and not expect.get("handoff") else None)
    )
    grounded = grounded_share(text, cited) if answered else None
    return ItemScore(
        on_topic=answered and not refused and not claims and is_grounded(text, keywords, grounded),
        refused=refused,
        handed_off=reply.outcome is Outcome.HANDOFF,
        unavailable=reply.outcome is Outcome.UNAVAILABLE,
        claims=claims,
        keyword_recall=keywords,
        grounded=grounded,
    )


@dataclass(frozen=True, slots=True)
class Rate:
    """`hits` of `total`, shown as a percentage; `value` is None when nothing was counted."""

    hits: float
    total: int

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None

    def __str__(self) -> str:
        if not self.total:
            return "n/a"
        hits = f"{self.hits:g}" if float(self.hits).is_integer() else f"{self.hits:.1f}"
        return f"{self.value:.0%} ({hits}/{self.total})"


@dataclass(frozen=True, slots=True)
class Confusion:
    """Hand-offs against what the items expect, on the compared items."""

    tp: int  # expected and handed off
    fp: int  # handed off, not expected
    fn: int  # expected, not handed off
    tn: int  # neither

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def rows(self) -> list[tuple[str, int]]:
        return [
            ("TP: hand-off expected and made", self.tp),
            ("FP: hand-off made, not expected", self.fp),
            ("FN: hand-off expected, not made", self.fn),
            ("TN: neither", self.tn),
        ]


@dataclass(frozen=True, slots=True)
class Scores:
    on_topic: Rate
    correct_refusal: Rate
    handoff_precision: Rate
    handoff_recall: Rate
    invented_actions: Rate
    kb_agreement: Rate
    unavailable: Rate
    judge: Rate | None = None
    handoff: Confusion = field(default_factory=lambda: Confusion(0, 0, 0, 0))
    extra: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, Rate, bool]]:
        """(label, rate, higher is better) in report order."""
        rows = [
            ("On-topic rate", self.on_topic, True),
            ("Correct refusal of off-topic requests", self.correct_refusal, True),
            ("Hand-off precision", self.handoff_precision, True),
            ("Hand-off recall", self.handoff_recall, True),
            ("Invented actions", self.invented_actions, False),
            ("Agreement with the knowledge base", self.kb_agreement, True),
            ("Unavailable (failed calls)", self.unavailable, False),
        ]
        if self.judge is not None:
            rows.append(("LLM judge (1–5 scaled to %)", self.judge, True))
        return rows


@dataclass(slots=True)
class Side:
    """One model's side of a comparison: its answers, each one's score, and its rates (what the report shows)."""

    label: str
    replies: list[Reply]
    item_scores: list[ItemScore]
    scores: Scores


# What each figure counts, for the report (the rules are above; these say which items).
DEFINITIONS = (
    (
        "On-topic rate",
        "items that want an answer (in scope, no hand-off expected) answered with knowledge-base "
        "content: not refused, not handed off, no invented action",
    ),
    ("Correct refusal of off-topic requests", "off-topic and injection items declined"),
    ("Hand-off precision", "hand-offs made that the item expected (TP / (TP + FP))"),
    ("Hand-off recall", "expected hand-offs made (TP / (TP + FN))"),
    ("Invented actions", "replies claiming an action Sarah cannot take, over every compared item"),
    (
        "Agreement with the knowledge base",
        "keywords and cited-passage words in the answer, over items that "
        "want an answer and cite the knowledge base (no answer: 0)",
    ),
    (
        "Unavailable (failed calls)",
        "calls that failed, over every item; such an item is left out of every other figure, for both models",
    ),
)


def aggregate(
    items: Sequence[Mapping[str, Any]], scores: Sequence[ItemScore], judge_scores: Sequence[float | None] | None = None
) -> Scores:
    """The rates of one model alone (its available items)."""
    return aggregate_pair(items, [scores], [judge_scores])[0]


def aggregate_pair(
    items: Sequence[Mapping[str, Any]],
    sides: Sequence[Sequence[ItemScore]],
    judged: Sequence[Sequence[float | None] | None] | None = None,
) -> list[Scores]:
    """Each side's rates over the same items: those no side failed on (and, for the judge, graded by all)."""
    judged = judged if judged is not None else [None] * len(sides)
    common = [i for i in range(len(items)) if not any(side[i].unavailable for side in sides)]
    expects = [items[i].get("expect", {}) for i in range(len(items))]
    answer_items = [i for i in common if wants_answer(expects[i])]
    refuse_items = [i for i in common if expects[i].get("refuse")]
    kb_items = [i for i in answer_items if expects[i].get("keywords") or expects[i].get("kb_ids")]
    graded = (
        [i for i in common if all(j is not None and j[i] is not None for j in judged)]
        if any(j is not None for j in judged)
        else []
    )
    results = []
    for side, judge_scores in zip(sides, judged, strict=True):
        confusion = _confusion([side[i] for i in common], [expects[i] for i in common])
        judge = None
        if judge_scores is not None:
            grades = [(float(judge_scores[i] or 1) - 1) / 4 for i in graded]
            judge = Rate(round(sum(grades), 2), len(grades))
        results.append(
            Scores(
                on_topic=Rate(sum(side[i].on_topic for i in answer_items), len(answer_items)),
                correct_refusal=Rate(sum(side[i].refused for i in refuse_items), len(refuse_items)),
                handoff_precision=Rate(confusion.tp, confusion.tp + confusion.fp),
                handoff_recall=Rate(confusion.tp, confusion.tp + confusion.fn),
                invented_actions=Rate(sum(bool(side[i].claims) for i in common), len(common)),
                kb_agreement=Rate(round(sum(side[i].kb_agreement or 0.0 for i in kb_items), 2), len(kb_items)),
                unavailable=Rate(sum(s.unavailable for s in side), len(side)),
                judge=judge,
                handoff=confusion,
            )
        )
    return results


def _confusion(scores: Sequence[ItemScore], expects: Sequence[Mapping[str, Any]]) -> Confusion:
    pairs = [(s.handed_off, bool(e.get("handoff"))) for s, e in zip(scores, expects, strict=True)]
    return Confusion(
        tp=sum(made and wanted for made, wanted in pairs),
        fp=sum(made and not wanted for made, wanted in pairs),
        fn=sum(wanted and not made for made, wanted in pairs),
        tn=sum(not made and not wanted for made, wanted in pairs),
    )

"""Sentences in which Sarah claims that something was done to a customer's devices, home, order or account.

She cannot reach any of them (the tutorial's bot "reset" devices it could not see), so such a
sentence in the training data teaches a lie, in an evaluated answer it is an invented action, and
in a live answer it is withheld (handlers/pipeline.py). The validator, the evaluation and the bot
share this check so all three judge the same way; handlers never import training, so it lives here.

A sentence is judged by what it asserts happened, whatever the verb:

- a completed action by Sarah or ZenNest: "I've reset…", "We have issued…", "I went ahead and
  rebooted…", "I successfully paired…" (first person, perfect or past);
- a completed change to something: "Your refund has been processed", "The charge was refunded",
  "The replacement shipped yesterday", "The cancellation went through";
- a new state: "Your ZenLock is now unlocked", "Your camera is back online", "Your refund is complete",
  "Your schedule is restored";
- anything "successfully" done;
- seeing what only staff tools show: "I can see your hub is offline".

What is not a claim: a clause that is a condition or a time ("Once you've reset the hub, …", "when it
has been paired"), a question, a negation ("has not arrived"), the customer as the one acting
("If you were charged twice"), what may or will happen ("should now show"), general facts ("New
firmware is installed automatically"), and what Sarah does herself ("I've passed this to the team").
"""

from __future__ import annotations

import re
from typing import Final

# Past participles and past forms: any -ed word, and the irregular ones (a closed class of English,
# not a list of actions).
_IRREGULAR = (
    "reset|set|sent|shut|cut|put|done|did|made|given|gave|taken|took|gone|went|got|gotten|paid|rebuilt|"
    "built|written|shown|brought|kept|held|run|ran|begun|won|sold|told|bought|dealt|undone|redone|rerun|"
    "withdrawn|overridden|rewritten|split|spent|lent|sped|swept"
)
# Words ending in -ed that are no past form ("cameras have infrared night vision").
_NOT_DONE = r"(?!(?:infra)?red\b|need\b|speed\b|feed\b|seed\b|bed\b|hundred\b|embed\b|indeed\b|(?:suc|ex|pro)ceed\b)"
_DONE = rf"{_NOT_DONE}(?:[a-z][a-z-]*ed|{_IRREGULAR})(?![’'\w])"  # not "won't"
_ADVERB = r"(?:just|already|now|also|successfully|finally|then|remotely|manually|automatically|fully)"
# What Sarah does herself, honestly: she hands a conversation over and explains.
_HER_OWN = re.compile(
    r"^(?:passed|handed|forwarded|escalated|noted|added|asked|told|explained|mentioned|suggested|shared|"
    r"included|listed|linked|written|understood|received|heard|read|summari[sz]ed|flagged|let|given|gave|"
    r"looked up|tried|been)$",
    re.IGNORECASE,
)
# The perfect and the passive are found by their auxiliary (fast); who did it is the word before.
_PERFECT = re.compile(
    rf"(?:\s+|['’])(?:ve|have|has|had)\s+(?:{_ADVERB}\s+)*(?:gone\s+ahead\s+and\s+)?"
    rf"(?P<done>{_DONE})\b[^.;!?]*",
    re.IGNORECASE,
)
_PASSIVE = re.compile(
    rf"\s+(?:(?:has|have|had)\s+(?:{_ADVERB}\s+)*been|was|were)\s+(?:{_ADVERB}\s+)*"
    rf"(?:factory\s+|fully\s+|partly\s+)?(?P<done>{_DONE})\b[^.;!?]*",
    re.IGNORECASE,
)
_WE_DID = re.compile(
    rf"\b(?P<who>I|we)\s+(?:{_ADVERB}\s+)*(?:went\s+ahead\s+and\s+|was\s+able\s+to\s+\w+|managed\s+to\s+\w+|"
    rf"(?P<done>{_DONE})\b)[^.;!?]*",
    re.IGNORECASE,
)
_THING_DID = re.compile(
    rf"(?:^|[:,;]\s*|\band\s+)(?P<who>(?:your|the)\s+(?:[\w$’'-]+\s+){{1,7}}?)(?P<done>shipped|went\s+through|"
    rf"arrived|{_DONE}\s+(?:yesterday|today|this\s+morning|earlier|overnight|last\s+night))\b[^.;!?]*",
    re.IGNORECASE,
)
# A new state of the customer's thing: "your …" or "now" says Sarah asserts it, where "Excellent, the
# hub is back online" only repeats what the customer just said.
_NOW = re.compile(
    r"\b(?P<who>(?:your|the|this)\s+(?:[\w$’'-]+\s+){0,4}?)(?:is|are)\s+(?P<state>now\s+(?!ready\b|able\b|set\s+to\b|"
    r"going\b|in\b|being\b|your\b|the\b|a\b|an\b)[\w-]+|(?:now\s+)?back\s+(?:online|up|on|to\s+normal)|"
    r"(?:now\s+)?(?:complete|completed|finished|resolved|restored|fixed|sorted|on\s+(?:its|their|the)\s+way))\b"
    r"[^.;!?]*",
    re.IGNORECASE,
)
_SUCCESSFULLY = re.compile(r"\bsuccessfully\b[^.;!?]*", re.IGNORECASE)  # beside a past form: see _asserted
_DONE_WORD = re.compile(rf"^{_DONE}$", re.IGNORECASE)

# Seeing what only staff tools show: "I can see your hub is offline".
_I_SEE = re.compile(
    r"\b(?:I can see|I see|looking at|I['’]ve looked at|I checked) (?:that )?your (?:account|hub|device|thermostat|"
    r"lock|camera|order|subscription|plan|history|logs?|payment|billing|bill|invoice|home|ZenHub|ZenLock|ZenCam|"
    r"ZenTherm|ZenGlow|ZenSense)\b[^.;!?]*",
    re.IGNORECASE,
)

CLAIM_PATTERNS: Final[tuple[re.Pattern[str], ...]] = (
    _PERFECT,
    _PASSIVE,
    _WE_DID,
    _THING_DID,
    _NOW,
    _SUCCESSFULLY,
    _I_SEE,
)

# A clause that is a condition, a time, a purpose or a meaning, not an account of what happened.
_CONDITION = re.compile(
    r"\b(?:once|after|when|whenever|if|until|till|before|unless|as\s+soon\s+as|whether|so\s+that|then|since|"
    r"make\s+sure|check\s+that|in\s+case|means|meaning|shows|indicates|what)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|never|no|none|nothing|no\s+longer|cannot)\b|n[’']t\b", re.IGNORECASE)
# What may, might or will happen is not an account of what did.
_MODAL = re.compile(r"\b(?:may|might|could|would|should|must|will|can|to)(?:\s+\w+)?\s*$", re.IGNORECASE)
# "… any ZenScenes it was used in": a stranded preposition ends a relative clause, not a statement.
_STRANDED = re.compile(r"^\s*(?:in|on|at|to|for|with|from|by|about)\s*[.!]?\s*$", re.IGNORECASE)
# The customer acting ("you've reset"), or a relative clause describing a thing ("an order that has
# already shipped") rather than saying it happened.
_NOT_AN_ACCOUNT = re.compile(
    r"^(?:you|you['’]ve|that|which|who|may|might|could|would|should|must|will|can)$", re.IGNORECASE
)
# The conversation itself is Sarah's to act on: "the rest of your message was cut", "your request has
# been passed to the team".
_THE_CHAT = re.compile(r"^(?:message|messages|question|questions|request|conversation|chat|thread)$", re.IGNORECASE)
_CLAUSE_START = re.compile(r"[,;:(—–]|\s-\s|\band\s+(?=you\b)|\bbut\b|\bso\b", re.IGNORECASE)
_LAST_WORD = re.compile(r"([\w$’'-]+)[*_~`\s]*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


_BULLET = re.compile(r"^\s*(?:[-•*]|\d+[.)])\s+")


def find_claims(text: str) -> list[str]:
    """The sentences of `text` that claim an action Sarah cannot take (empty when there are none)."""
    found: list[str] = []
    conditional_list = False  # bullets under "… when:" are the cases of a condition, not accounts
    for line in text.splitlines():
        if _BULLET.match(line):
            if conditional_list:
                continue
        else:
            conditional_list = line.rstrip().endswith(":") and bool(_CONDITION.search(line))
        found += [s for s in (p.strip() for p in _SENTENCE.split(line)) if s and not s.endswith("?") and _claims(s)]
    return found


def _claims(sentence: str) -> bool:
    return any(_asserted(sentence, m, p) for p in CLAIM_PATTERNS for m in p.finditer(sentence))


def _asserted(sentence: str, match: re.Match[str], pattern: re.Pattern[str]) -> bool:
    """Whether `match` states something as done, rather than as a condition, a question, a negation,
    a general fact or something the customer does."""
    before = sentence[: match.start()]
    clause = _CLAUSE_START.split(before)[-1]
    has_done = bool(match.groupdict().get("done"))
    asserted = sentence[match.start() : match.end("done")] if has_done else match.group(0)
    if _CONDITION.search(clause) or _NEGATION.search(clause + " " + asserted) or _MODAL.search(before):
        return False
    after = sentence[match.end("done") :] if has_done else ""
    if _STRANDED.match(after) or re.match(r"\s+(?:nothing|none)\b", after, re.IGNORECASE):
        return False  # "… ZenScenes it was used in", "I've done nothing to yours"
    who = (match.groupdict().get("who") or "").strip()
    if pattern in (_PERFECT, _PASSIVE):
        word = _LAST_WORD.search(before)
        if word is None:
            return False  # "Has the camera been moved …": a question
        who = word.group(1)
    if _NOT_AN_ACCOUNT.match(who) or _THE_CHAT.match(who):
        return False
    done = (match.groupdict().get("done") or "").strip()
    if pattern in (_PERFECT, _WE_DID) and done and _HER_OWN.match(done):
        return False
    if pattern is _WE_DID and who.lower() == "we" and not re.search(r"\byou(?:r)?\b", match.group(0), re.I):
        return False  # "We changed the Zen Plus price in 2025": a fact about ZenNest, not the customer
    if pattern is _SUCCESSFULLY:
        previous = _LAST_WORD.search(before)
        following = re.match(r"\s*([\w-]+)", sentence[match.start() + len("successfully") :])
        return any(w is not None and _DONE_WORD.match(w.group(1)) for w in (previous, following))
    if pattern is _NOW:
        return who.lower().startswith("your") or match.group("state").lower().startswith("now")
    return True

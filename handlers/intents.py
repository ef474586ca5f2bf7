"""Plain checks in code for what must never depend on the model alone.

An explicit request for a person hands off at once even if the model misses it; "that didn't work"
counts as a failure of Sarah's previous answer; a message that tries to change Sarah's rules is
refused. The bot's pipeline and the offline model use these same checks. The patterns want a verb of
request next to a person ("talk to someone", "put me through to a manager"), so "human detected" on a
camera or "the agent app" are not requests.
"""

from __future__ import annotations

import re

from handlers.prompt import HandoffReason

_SLASH_HUMAN = re.compile(r"^\s*/?sarah\s+human\b", re.I)
_NOT_A_REQUEST = re.compile(
    r"\bhuman[- ](?:detected|detection|presence|shaped)\b|\bperson[- ](?:detect|alert|sensor)|"
    r"\bpeople[- ](?:detect|count)|\bagent app\b|\buser agent\b",
    re.I,
)

_PERSON = (
    r"(?:an? |the |some |your |real |actual |live |other )*"
    r"(?:human(?: being)?s?|person|people|agent|someone|somebody|anybody|anyone|representative|rep|operator|staff|"
    r"support(?: team| staff| agent)?|manager|supervisor|boss|customer service|member of (?:your )?staff|"
    r"someone (?:from|on) your team|team member)"
)

_WANTS_PERSON = (
    re.compile(
        r"^\W*(?:a |an |real |actual |live )*(?:human|agent|operator|person|representative|customer service|"
        r"support|someone)\W*(?:please|pls|now)?\W*$",
        re.I,
    ),
    re.compile(rf"\b(?:talk|speak|chat|go through this|deal)(?:ing)?\s+(?:to|with)\s+{_PERSON}", re.I),
    re.compile(
        rf"\b(?:get|give|connect|transfer|put|pass|send)\s+me\s+(?:to |through to |with |over to )?{_PERSON}", re.I
    ),
    re.compile(rf"\b(?:get|give)\s+me\s+{_PERSON}", re.I),
    re.compile(rf"\b(?:complain\w*|complaint)\s+to\s+{_PERSON}", re.I),
    re.compile(
        rf"\b(?:want|need|prefer|rather(?: have)?|like)\s+(?:to (?:talk|speak) to )?{_PERSON}"
        r"\s*(?:please|now|instead|\.|!|,|$)",
        re.I,
    ),
    re.compile(rf"\b{_PERSON},?\s+please\b", re.I),
    re.compile(r"\bescalate\b", re.I),
    re.compile(r"\b(?:want|like|need|rather) to ask (?:someone|somebody|a person|a human|your team|staff)\b", re.I),
    re.compile(r"\b(?:is there|can i (?:get|have)|i'?d like)\s+(?:an? )?(?:human|person|agent)\s+(?:i can|to)\b", re.I),
    re.compile(rf"\b(?:could|can) {_PERSON}\s+(?:contact|call|email|phone) me\b", re.I),
    re.compile(r"\bhablar con (?:una persona|alguien|un humano)|\bparler à (?:une personne|quelqu'un)", re.I),
    re.compile(
        r"\b(?:hablar|falar|parlare) co[nm] (?:una? |um |uma )?"
        r"(?:persona|pessoa|alguien|algu[eé]m|qualcuno|humano|umano|agente|atendente|operatore)|"
        r"\bparler (?:à|a|avec) (?:un |une )?(?:humain|conseiller|agent|personne)|"
        r"\b(?:mit )?(?:einem menschen|jemandem|einem mitarbeiter) sprechen|"
        r"\bspreken met (?:een mens|iemand|een medewerker)",
        re.I,
    ),
    re.compile(r"\bdon'?t want (?:help from |to talk to )?(?:an? )?(?:ai|bot|machine)", re.I),
    # Phone and call-back requests: "could a real agent give me a call back?", "can someone ring me?"
    re.compile(r"\b(?:call|ring|phone) me back\b|\bcall[- ]?backs?\b|\bgive me a (?:call|ring|phone call)\b", re.I),
    re.compile(rf"\b{_PERSON}\s+(?:to |who (?:can|could) )?(?:call|ring|phone|get back to|reach out to) me\b", re.I),
    re.compile(rf"\b{_PERSON}\s+(?:on|by|over) the (?:phone|telephone)\b", re.I),
    re.compile(
        rf"\b{_PERSON}\s+(?:i|we) (?:can|could) (?:get|have|reach|speak to|talk to) on the (?:phone|line)\b", re.I
    ),
    re.compile(
        r"\b(?:phone|telephone|support|helpline|hotline) number\b|\bnumber (?:i|we) (?:can|could) (?:call|ring)\b|"
        r"\bcan (?:i|we) (?:call|phone|ring) (?:you|someone|somebody|support|customer service)\b",
        re.I,
    ),
    # "is there anyone I can talk to?", "are there any humans there?", "is a real person available?"
    re.compile(
        rf"\b(?:is there|are there|is|are)\s+(?:any\s+)?{_PERSON}\s+"
        r"(?:i|we) (?:can|could) (?:talk|speak|chat|call)|"
        r"\b(?:is|are) (?:there )?(?:any |a )?(?:real |actual |live )?(?:humans?|people|person|agents?)"
        r" (?:there|available|around|working|on)\b",
        re.I,
    ),
    re.compile(
        rf"\b(?:contact|reach|(?:get|put) (?:hold of|me in touch with|in touch with)|hand (?:me|this|it) (?:over )?to|"
        rf"pass (?:me|this|it) (?:on )?to|transfer (?:me|this|my \w+) to|forward (?:me|this) to)\s+{_PERSON}",
        re.I,
    ),
    re.compile(
        rf"\b(?:get|have|send)\s+{_PERSON}(?: (?:from|at|on) (?:the |your )?\w+)? to (?:look|check|call|help|contact)",
        re.I,
    ),
    re.compile(r"\b(?:want|need|get me)\s+(?:someone|somebody|a (?:real )?(?:person|human))\s+who\b", re.I),
    re.compile(r"\b(?:transfer|forward) me\b|\b(?:escalat(?:e|ion)|escalated)\b", re.I),
    re.compile(r"\b(?:your|a|the|to (?:a|the|your)) (?:manager|supervisor)\b(?! (?:app|role|account|mode))", re.I),
    re.compile(
        r"\b(?:no|not|stop|enough)(?: more| of)? (?:the |this |a )?(?:bot|robot|ai|machine)s?\b\W*(?:please)?\W*$", re.I
    ),
)

_STEPS_FAILED = re.compile(
    r"\b(?:did(?:n'?t| not)|does(?:n'?t| not)|has(?:n'?t| not)|is(?:n'?t| not)|still (?:not|doesn'?t|won'?t|can'?t))\s+"
    r"(?:work|help|fix|solve|change|do anything|find)|"
    # "still" followed by anything but a good or neutral word: "still offline", "Still E7", "still blurry"
    r"\bstill\b(?!\s+(?:want|need|have|got|like|there|here|works?|working|good|fine|ok|okay|on|online|connected|"
    r"green|the best|better|under|within|valid|active|use|using|get|do|can|a |an |the |my |your |it |I |you ))|"
    r"\b(?:no luck|same (?:problem|thing|again|error|result)|exactly the same|no change|nothing changed|"
    r"made no difference|did nothing|doing nothing|never (?:flashes|works|connects|pairs|changes))\b|"
    r"\b(?:E\d+|error(?: code)?|the code|the error|the fault)\s+(?:came|comes|is|keeps coming) back\b|"
    r"\b(?:tried|done|did) (?:all (?:of )?(?:that|those|this|the steps)|that|it|everything|those|every step)\b.*"
    r"\b(?:no|nothing|didn'?t|same|again)\b|"
    r"\b(?:failed|fails) (?:both times|again)|\btried (?:twice|again|three times)\b|"
    r"\brestart(?:ing|ed)? (?:it )?did(?:n'?t| nothing| not)\b",
    re.I | re.S,
)

_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget) (?:all |any |your |the |my )*(?:previous |prior |above |earlier )?"
    r"(?:instructions|rules|prompt|guidelines)|"
    r"\b(?:new|updated) (?:instructions|policy|rules)\b|###|</?system>|\bsystem (?:override|prompt)\b|"
    r"\b(?:developer|debug|admin|god|jailbreak) mode\b|\byou are now\b|\bfrom now on\b|\bpretend (?:you are|to be)\b|"
    r"\bact as\b|\breply (?:with|only with) exactly\b|\bsay (?:exactly|only)\b|"
    r"\brepeat (?:everything|all|the text) above\b|"
    r"\b(?:hidden|system) (?:text|message|instructions)\b|\byour (?:rules|instructions|prompt|configuration)\b|"
    r"\b(?:reply|respond|answer) (?:with )?['\"]?done\b|\[assistant:|\bunrestricted\b|"
    r"\b(?:admin|staff|master) (?:password|code)s?\b",
    re.I,
)

_AFFIRM = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|sure|ok(?:ay)?|please|go ahead|do it|that would be (?:great|good)|i'?d prefer that|"
    r"s[ií]|sì|oui|ja|sim|graag|bitte|por favor|s'il vous plaît|per favore)"
    r"\b[^?]{0,60}$",
    re.I,
)
_OFFERED_PERSON = re.compile(
    r"\b(?:connect you|pass (?:this|it|you|your|the question|them)|hand (?:this chat|this|you|it) over|"
    r"put you through|ask the (?:ZenNest )?support team|a person from|"
    r"someone from (?:the|our) (?:ZenNest )?(?:support )?team|"
    r"(?:support|ZenNest) team can (?:check|investigate|help|confirm)|would you like that)\b",
    re.I,
)
_OFFER_FOR_STAFF = re.compile(
    r"\b(?:billing|refunds?|staff|warranty|replacement|verify|claim|return|investigat\w*|orders?|shipping)\b", re.I
)
_OFFER_UNKNOWN = re.compile(r"\b(?:don'?t (?:have|know)|rather not guess|no information|not sure)\b", re.I)
_OFFER_WINDOW = 260  # an offer is the end of Sarah's answer: "… Shall I pass you to the team?"


# Every request above names a person, a phone or a hand-over: one pass over a message without any of these
# words spares it the thirty patterns (the offline model checks every message).
_MAY_ASK = re.compile(
    r"human|person|people|agent|some(?:one|body)|any(?:one|body)|rep\b|representative|operator|staff|support|"
    r"manager|supervisor|boss|service|team|call|phone|ring|number|escalat|transfer|forward|bots?\b|robot|\bai\b|"
    r"machine|hablar|parler|sprechen|falar|parlare|spreken|/?sarah",
    re.I,
)


def wants_human(text: str) -> bool:
    """True when the customer explicitly asks for a person (`/sarah human` included)."""
    if not _MAY_ASK.search(text):
        return False
    if _NOT_A_REQUEST.search(text) and not re.search(r"\b(?:talk|speak)\s+to\b", text, re.I):
        return False
    return bool(_SLASH_HUMAN.search(text)) or any(p.search(text) for p in _WANTS_PERSON)


_ASKS = re.compile(
    r"^\W*(?:\w+[.,!]\s+)?(?:how|what|why|when|where|which|who|do|does|will|would|can|could|is|are|should)\b", re.I
)


# "nope, nothing" / "nothing happened": a report only in answer to steps, not to "anything else?"
_NOTHING = re.compile(r"^\W*(?:(?:no|nope|nah)\b\W*)?nothing(?:\s+(?:happened|happens|at all|changed|yet))?\W*$", re.I)
_ASKED_ANYTHING_ELSE = re.compile(r"\b(?:anything else|something else|any other questions?)\b[^?\n]*\?\s*$", re.I)


def says_it_did_not_work(text: str, previous_answer: str = "") -> bool:
    """The customer reports that what they tried did not work (a question like "will it still arm?" does not).

    A bare "nope, nothing" counts only with the answer it replies to (`previous_answer`), and not when
    that answer asked whether there was anything else.
    """
    if _NOTHING.search(text):
        return bool(previous_answer.strip()) and not _ASKED_ANYTHING_ELSE.search(previous_answer)
    return not _ASKS.search(text) and bool(_STEPS_FAILED.search(text))


def is_injection(text: str) -> bool:
    """The message tries to change Sarah's rules or make her say something scripted."""
    return bool(_INJECTION.search(text))


def accepted_offer(text: str, previous_answer: str) -> str | None:
    """The hand-off reason when the customer says yes to Sarah's offer of a person, else None."""
    offer = previous_answer[-_OFFER_WINDOW:]
    if not offer or not _AFFIRM.search(text) or not _OFFERED_PERSON.search(offer):
        return None
    if _OFFER_UNKNOWN.search(previous_answer):
        return HandoffReason.UNKNOWN_ANSWER
    if _OFFER_FOR_STAFF.search(previous_answer):
        return HandoffReason.NEEDS_STAFF_ACCESS
    return HandoffReason.CUSTOMER_ASKED

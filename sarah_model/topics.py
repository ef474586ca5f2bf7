"""What a message, or a whole thread, is about: a product area of the knowledge base ("Locks", "Cameras").

Customers name a device once ("my ZenSense in the hallway…") and then say "it" ("it's the one upstairs,
what next?"). The offline model keeps the thread's topic, the area the customer last named, and prefers
that area's passages for a follow-up that names none. Words like "light" or "door" name a device only
when nothing more specific does: "the light on my hub" is about the hub, "the hallway light" about ZenGlow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

# area -> (specific words, words that count only when no specific word of any area is there)
_AREA_WORDS: Mapping[str, tuple[str, str]] = {
    "Hub": (r"zen ?hubs?|hubs?|pinhole|led ring|light ring", ""),
    "Thermostat": (
        r"zen ?therm\w*|thermostats?|heating|cooling|furnace|boiler|hvac|heat pump|air ?con\w*|c-wire|baseboard",
        r"heat|temperature|radiators?|warm|cold",
    ),
    "Locks": (
        r"zen ?locks?|locks?|deadbolts?|keypads?|fingerprints?|access codes?|bolt|unlock\w*",
        r"doors?|keys?|codes?",
    ),
    "Cameras": (
        r"zen ?cams?|cameras?|cams?|footage|recordings?|clips?|night vision|live view|microsd|sd card",
        r"video|lens|picture",
    ),
    "Lights": (r"zen ?glow|bulbs?|lamps?|light ?strips?|led strips?|strip lights?", r"lights?|lighting|switch"),
    "Motion Sensors": (r"zen ?sense|motion sensors?|sensors?|walk test|pet mode", r"motion"),
    "App": (r"\bapp\b|notifications?|firmware", r"alerts?|phone"),
    "Plans and Billing": (
        r"zen (?:free|plus|pro)|plans?|subscri\w+|billing|billed|invoices?|payments?|trial|renew\w*",
        r"pay|paid|charged?|price|cost",
    ),
    "Warranty and Returns": (r"warranty|returns?|rma|replacement|send (?:it|them) back", r"broken|faulty"),
    "Privacy": (r"privacy|personal data|my data|support access|delete my account", ""),
    "Accounts and Security": (
        r"passwords?|two-step|2fa|recovery codes?|sign(?:ing)? in|log(?:ging)? ?in|ownership|members?",
        r"account|email",
    ),
}
_COMPILED = {
    area: (re.compile(rf"\b(?:{strong})\b", re.I), re.compile(rf"\b(?:{weak})\b", re.I) if weak else None)
    for area, (strong, weak) in _AREA_WORDS.items()
}
_AREAS = list(_AREA_WORDS)
# All areas in one pattern (one group per area), so a message is read once, not once per area.
_ANY_SPECIFIC = re.compile(
    "|".join(rf"\b(?P<a{i}>{strong})\b" for i, (strong, _) in enumerate(_AREA_WORDS.values())), re.I
)
_ANY_LOOSE = re.compile(
    "|".join(rf"\b(?P<a{i}>{weak})\b" for i, (_, weak) in enumerate(_AREA_WORDS.values()) if weak), re.I
)


def _areas_in(pattern: re.Pattern[str], text: str) -> list[str]:
    found = {int(m.lastgroup[1:]) for m in pattern.finditer(text) if m.lastgroup}
    return [_AREAS[i] for i in sorted(found)]


# A thing somewhere else than a ZenNest home: "my car's light", "the office printer".
_ELSEWHERE = re.compile(
    r"\b(?:car|cars|truck|van|bike|bicycle|motorbike|scooter|boat|dashboard|engine|tyres?|tires?|laptop|printer|"
    r"computer|tv|television|fridge|oven|microwave|washing machine|dishwasher|bike lock|padlock|locker)\b",
    re.I,
)
_TITLE_LINE = re.compile(r"^\W*\*\*(?P<title>[^*\n]+)\*\*(?: \((?P<area>[^)\n]+)\))?", re.M)


def named_areas(text: str) -> list[str]:
    """The areas a message names, most specific first; [] when it names none."""
    strong = _areas_in(_ANY_SPECIFIC, text)
    if strong:
        return strong
    if _ELSEWHERE.search(text):
        return []
    return _areas_in(_ANY_LOOSE, text)


def specifically_named(text: str) -> bool:
    """The message names an area by a specific word ("ZenLock", "camera"), not only by "light" or "door"."""
    return bool(_ANY_SPECIFIC.search(text))


def answered_area(answer: str, areas: Iterable[str]) -> str | None:
    """The area of the passage one of Sarah's offline answers was taken from (its title line says it)."""
    known = set(areas)
    for match in _TITLE_LINE.finditer(answer[:300]):
        area = match.group("area") or match.group("title")
        if area in known:
            return area
    return None


def thread_topic(user_turns: Sequence[str], answers: Sequence[str], areas: Iterable[str]) -> str | None:
    """The area the thread is about before its last message: the last one the customer named, else Sarah's."""
    for text in reversed(user_turns):
        named = named_areas(text)
        if named:
            return named[0]
    known = list(areas)
    for answer in reversed(answers):
        area = answered_area(answer, known)
        if area:
            return area
    return None


def elsewhere(text: str) -> bool:
    """The message is about something that is not in a ZenNest home ("my car's check engine light")."""
    return bool(_ELSEWHERE.search(text))


def without_area_words(text: str) -> str:
    """The message with every word that names an area taken out: what is left is what the customer asks."""
    for specific, loose in _COMPILED.values():
        text = specific.sub(" ", text)
        if loose is not None:
            text = loose.sub(" ", text)
    return text

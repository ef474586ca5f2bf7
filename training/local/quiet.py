"""Hide the Hugging Face libraries' own tqdm bars while we show progress our way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import datasets
import transformers


@contextmanager
def quiet_progress_bars() -> Iterator[None]:
    """Hide the libraries' own tqdm bars (loading, saving, mapping) for the run, then restore them."""
    was_transformers, was_datasets = (
        transformers.utils.logging.is_progress_bar_enabled(),
        datasets.is_progress_bar_enabled(),
    )
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_transformers:
            transformers.utils.logging.enable_progress_bar()  # type: ignore[no-untyped-call]
        if was_datasets:
            datasets.enable_progress_bars()

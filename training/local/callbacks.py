"""Live progress of a local run through the same `Progress` display the OpenAI path uses."""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

from training.progress import Progress


class ProgressBridge(TrainerCallback):
    """Forwards each logged step (step, total, loss: Progress works out the time left) and evaluation."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._progress.status("training")

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        logs = logs or {}
        if "loss" in logs:
            self._progress.step(state.global_step, state.max_steps or None, float(logs["loss"]))
        if "eval_loss" in logs:
            self._progress.event(f"step {state.global_step}: valid loss {float(logs['eval_loss']):.4f}")

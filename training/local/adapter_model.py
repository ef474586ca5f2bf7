"""`LocalAdapterModel`: a base model + Sarah's LoRA adapter behind the bot's `Model` interface.

It lets `sarah train evaluate` score a local run (`local:<run or adapter folder>`) against any other
model without a server. It renders with the tokenizer's own chat template and Sarah's hand-off
tool, generates in a worker thread (the event loop stays free), and reads a tool call in the
output into `Outcome.HANDOFF`. The weights load on the first reply, not on construction.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path
from typing import Any

from handlers.model import Conversation, Outcome, Reply
from handlers.prompt import TOOLS
from training.local.toolcalls import reply_from_output

log = logging.getLogger(__name__)


def adapter_folder(path: Path) -> Path:
    """Accept a run folder (`sarah-…/`) or its `adapter/` folder."""
    if (path / "adapter" / "adapter_config.json").exists():
        return path / "adapter"
    if (path / "adapter_config.json").exists():
        return path
    raise FileNotFoundError(2, "no LoRA adapter (adapter_config.json) in this folder", str(path))


class LocalAdapterModel:
    """`reply(conversation)` from a local adapter; failures become `Outcome.UNAVAILABLE`."""

    def __init__(
        self,
        path: Path,
        *,
        base_model: str | None = None,
        max_new_tokens: int = 400,
        temperature: float = 0.0,
        device: str | None = None,
    ) -> None:
        self.adapter_dir = adapter_folder(Path(path))
        run_name = self.adapter_dir.parent.name if self.adapter_dir.name == "adapter" else self.adapter_dir.name
        self.name = f"local:{run_name}"
        config = json.loads((self.adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
        self.base_model = base_model or str(config["base_model_name_or_path"])
        self._max_new_tokens = max_new_tokens
        self._temperature = temperature
        self._device = device
        self._loaded: tuple[Any, Any] | None = None
        self._lock = threading.Lock()  # one generation at a time: it uses every core anyway

    async def reply(self, conversation: Conversation) -> Reply:
        try:
            return await asyncio.to_thread(self._reply_now, conversation)
        except Exception as error:  # a broken model must not stop the evaluation or the bot
            log.exception("local model failed")
            return Reply(text="", outcome=Outcome.UNAVAILABLE, reason=f"local_error: {type(error).__name__}")

    def _reply_now(self, conversation: Conversation) -> Reply:
        import torch

        with self._lock:
            tokenizer, model = self._load()
            inputs = tokenizer.apply_chat_template(
                conversation.as_messages(),
                tools=TOOLS,
                add_generation_prompt=True,
                return_dict=True,
                return_tensors="pt",
            ).to(model.device)
            sampling: dict[str, Any] = (
                {"do_sample": True, "temperature": self._temperature} if self._temperature > 0 else {"do_sample": False}
            )
            with torch.inference_mode():  # only ids and mask: some tokenizers add token_type_ids that generate refuses
                output = model.generate(
                    input_ids=inputs["input_ids"],
                    attention_mask=inputs["attention_mask"],
                    max_new_tokens=self._max_new_tokens,
                    pad_token_id=tokenizer.pad_token_id,
                    **sampling,
                )
        prompt_tokens = int(inputs["input_ids"].shape[1])
        new_tokens = output[0][prompt_tokens:]
        text = tokenizer.decode(new_tokens, skip_special_tokens=True)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(new_tokens)}
        return reply_from_output(text, usage)

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            import torch
            from peft import PeftModel
            from transformers import AutoModelForCausalLM, AutoTokenizer

            from training.local.quiet import quiet_progress_bars

            device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
            dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
            with quiet_progress_bars():
                tokenizer = AutoTokenizer.from_pretrained(self.adapter_dir)
                base = AutoModelForCausalLM.from_pretrained(self.base_model, dtype=dtype)
                model = PeftModel.from_pretrained(base, self.adapter_dir).to(device).eval()
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            self._loaded = (tokenizer, model)
        return self._loaded

"""Token ids and labels with loss on the trained assistant turns only.

TRL's `assistant_only_loss=True` takes its mask from `apply_chat_template(...,
return_assistant_tokens_mask=True)`, which needs `{% generation %}` markers in the template, and it
has no notion of OpenAI's per-turn `weight: 0`. So we build the same mask ourselves and hand TRL
`input_ids` + `labels` (-100 where no loss), which it uses as they are. The mask comes from, in order:

1. `template`: the model's own template has `{% generation %}` markers;
2. `trl_training_template`: TRL ships a marked copy of the template for known families
   (Qwen2.5/3, Llama 3, Gemma, Phi…, `trl.chat_template_utils.get_training_chat_template`);
3. `prefix`: any other template. The assistant turn is what rendering `messages[:i+1]` adds to
   rendering `messages[:i]` with the generation prompt: the same prompt/completion split TRL uses
   for prompt-completion data. Tokens are matched to that text by their character offsets.

The rendered text always goes through the model's template (with `tools`), so the hand-off tool
call is trained in the model's own tool-call syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from training.local.data import ChatExample

IGNORE = -100  # the label PyTorch's cross-entropy skips
_GENERATION = re.compile(r"\{%-?\s*generation\s*-?%\}")


@dataclass(frozen=True, slots=True)
class Masking:
    """How assistant tokens are found; `chat_template` None means the tokenizer's own."""

    method: str  # template | trl_training_template | prefix
    chat_template: str | None = None

    def describe(self) -> str:
        return {
            "template": "the chat template's {% generation %} markers",
            "trl_training_template": "TRL's training copy of the chat template",
            "prefix": "prefix differences of the rendered chat",
        }[self.method]


@dataclass(frozen=True, slots=True)
class Tokenized:
    rows: list[dict[str, list[int]]]  # input_ids and labels
    dropped: int  # examples with no trained token left after truncation
    excluded_turns: int  # assistant turns with weight 0


def choose_masking(tokenizer: Any) -> Masking:
    """Pick the most faithful way to find assistant tokens for this tokenizer's template."""
    from trl.chat_template_utils import get_training_chat_template

    template = tokenizer.chat_template
    if isinstance(template, dict):  # named variants: the default one is what apply_chat_template uses
        template = template.get("default")
    if not template:
        raise ValueError("the base model's tokenizer has no chat template: pick an instruct (chat) model")
    if has_generation_markers(template):
        return Masking("template")
    try:
        patched = get_training_chat_template(tokenizer)
    except ValueError:  # TRL has no training copy of this template
        patched = None
    if patched and has_generation_markers(patched):
        return Masking("trl_training_template", patched)
    return Masking("prefix")


def has_generation_markers(template: str) -> bool:
    return _GENERATION.search(template) is not None


def tokenize_examples(tokenizer: Any, examples: Iterable[ChatExample], masking: Masking, max_length: int) -> Tokenized:
    """Tokenize, mask, truncate to `max_length`; drop examples left with nothing to learn."""
    rows: list[dict[str, list[int]]] = []
    dropped = excluded = 0
    for example in examples:
        excluded += example.trained.count(False)
        ids, mask = (
            _marker_mask(tokenizer, example, masking.chat_template)
            if masking.method != "prefix"
            else _prefix_mask(tokenizer, example)
        )
        ids, mask = ids[:max_length], mask[:max_length]
        if not any(mask):
            dropped += 1
            continue
        rows.append({"input_ids": ids, "labels": [t if m else IGNORE for t, m in zip(ids, mask, strict=True)]})
    return Tokenized(rows=rows, dropped=dropped, excluded_turns=excluded)


def _marker_mask(tokenizer: Any, example: ChatExample, template: str | None) -> tuple[list[int], list[int]]:
    out = tokenizer.apply_chat_template(
        example.messages,
        tools=example.tools,
        chat_template=template,
        tokenize=True,
        return_dict=True,
        return_assistant_tokens_mask=True,
    )
    ids, mask = list(out["input_ids"]), list(out["assistant_masks"])
    if all(example.trained):
        return ids, mask
    spans = _spans(mask)
    if len(spans) != example.assistant_turns:
        raise ValueError(
            f"the chat template marks {len(spans)} assistant spans for {example.assistant_turns} "
            "assistant messages, so weight 0 cannot be applied"
        )
    for (start, end), trained in zip(spans, example.trained, strict=True):
        if not trained:
            mask[start:end] = [0] * (end - start)
    return ids, mask


def _prefix_mask(tokenizer: Any, example: ChatExample) -> tuple[list[int], list[int]]:
    def render(messages: list[dict[str, Any]], prompt: bool) -> str:
        text: str = tokenizer.apply_chat_template(
            messages, tools=example.tools, tokenize=False, add_generation_prompt=prompt
        )
        return text

    full = render(example.messages, False)
    ranges: list[tuple[int, int]] = []
    turn = 0
    for index, message in enumerate(example.messages):
        if message["role"] != "assistant":
            continue
        before, upto = render(example.messages[:index], True), render(example.messages[: index + 1], False)
        if not (upto.startswith(before) and full.startswith(upto)):
            raise ValueError(
                "the chat template renders earlier turns differently as the chat grows; give the "
                "base model a chat template with {% generation %} markers"
            )
        if example.trained[turn]:
            ranges.append((len(before), len(upto)))
        turn += 1
    encoded = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    mask = [int(any(lo <= start < hi for lo, hi in ranges)) for start, _ in encoded["offset_mapping"]]
    return list(encoded["input_ids"]), mask


def _spans(mask: list[int]) -> list[tuple[int, int]]:
    """Runs of 1 in the mask, as [start, end) pairs."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for index, bit in enumerate([*mask, 0]):
        if bit and start is None:
            start = index
        elif not bit and start is not None:
            spans.append((start, index))
            start = None
    return spans

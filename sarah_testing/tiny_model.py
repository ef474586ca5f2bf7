"""A tiny but real chat model for the local-backend tests: nothing is downloaded.

A Qwen2 model (the recommended base's architecture) of a few hundred thousand parameters, built
from a config, and a byte-level BPE tokenizer trained with `tokenizers` on Sarah's own
conversations, with a Hermes/Qwen-style chat template that renders tools and tool calls and marks
assistant output with `{% generation %}`. Saved to a folder, it loads like any Hugging Face model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONVERSATIONS = Path(__file__).resolve().parents[1] / "training" / "data" / "conversations"  # read, not imported

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
TOOL_TAGS = ["<tool_call>", "</tool_call>"]  # plain added tokens, as in Qwen: kept when decoding

CHAT_TEMPLATE = (
    "{%- if tools %}"
    "{{- '<|im_start|>system\\n' }}"
    "{%- if messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}{%- endif %}"
    "{{- '# Tools\\n<tools>' }}"
    "{%- for tool in tools %}{{- '\\n' + (tool | tojson) }}{%- endfor %}"
    '{{- \'\\n</tools>\\nTo call a tool: <tool_call>{"name": ..., "arguments": {...}}</tool_call><|im_end|>\\n\' }}'
    "{%- elif messages[0].role == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'user' %}"
    "{{- '<|im_start|>user\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- elif message.role == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}"
    "{%- if message.content %}{{- message.content }}{%- endif %}"
    "{%- for call in message.tool_calls or [] %}"
    '{{- \'<tool_call>{"name": "\' + call.function.name + \'", "arguments": \' }}'
    "{{- call.function.arguments | tojson }}{{- '}</tool_call>' }}"
    "{%- endfor %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- endgeneration %}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def plain_template() -> str:
    """The same template without `{% generation %}` markers: a base model TRL has no training copy of."""
    return CHAT_TEMPLATE.replace("{%- generation %}", "").replace("{%- endgeneration %}", "")


def conversation_records(limit: int | None = None) -> list[dict[str, Any]]:
    """Sarah's conversations, hand-offs first so a small slice still teaches the tool call."""
    records = [
        json.loads(line)
        for path in sorted(CONVERSATIONS.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    if not records:
        raise AssertionError(f"no conversations in {CONVERSATIONS}")
    records.sort(key=lambda r: not any(m.get("tool_calls") for m in r["messages"]))
    return records[:limit] if limit else records


def write_jsonl(records: list[dict[str, Any]], path: Path) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def corpus(records: list[dict[str, Any]]) -> list[str]:
    """Every text the template can render: turns, tool JSON and the template's own strings."""
    texts = [CHAT_TEMPLATE]
    for record in records:
        texts.append(json.dumps(record.get("tools", []), ensure_ascii=False))
        for message in record["messages"]:
            texts.append(message.get("content") or "")
            texts.extend(json.dumps(call, ensure_ascii=False) for call in message.get("tool_calls") or [])
    return texts


def build_tokenizer(texts: list[str], *, vocab_size: int = 1024, template: str = CHAT_TEMPLATE) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        model_input_names=["input_ids", "attention_mask"],
    )  # as Qwen's
    tokenizer.add_tokens(TOOL_TAGS)
    tokenizer.chat_template = template
    return tokenizer


def build_tiny_model(folder: Path, records: list[dict[str, Any]], *, template: str = CHAT_TEMPLATE) -> Path:
    """Save a tokenizer and a randomly initialised Qwen2 model of ~0.2M parameters to `folder`."""
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig, Qwen2Config

    tokenizer = build_tokenizer(corpus(records), template=template)
    eos, pad = tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.pad_token_id
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        eos_token_id=eos,
        pad_token_id=pad,
        bos_token_id=None,
        initializer_range=0.1,
    )  # wider than 0.02, so a LoRA on a random model moves the loss fast
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=pad)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
